"""CSAF 2.0 §6.1 tests of the vulnerabilities (pure): 6.1.6 contradicting product status,
6.1.7 two scores of one CVSS version for a product, 6.1.8–6.1.10 CVSS (:mod:`.cvss`), 6.1.11
CWE (form and name only: the CWE catalogue is not shipped), 6.1.23 one CVE twice, 6.1.24
involvements, 6.1.29 and 6.1.32 remediations and flags without products, 6.1.33 two VEX flags
for a product."""

from __future__ import annotations

from typing import Any

from bulletins.csaf import cvss
from bulletins.csaf.shapes import Problem, as_dict, as_list

STATUS_GROUPS = {
    "affected": ("first_affected", "known_affected", "last_affected"),
    "not affected": ("known_not_affected",),
    "fixed": ("first_fixed", "fixed"),
    "under investigation": ("under_investigation",),
}


def statuses_and_scores(doc: dict[str, Any]) -> list[Problem]:
    """6.1.6, 6.1.7, 6.1.8, 6.1.9, 6.1.10, 6.1.11, 6.1.23, 6.1.24, 6.1.29, 6.1.32, 6.1.33."""
    out: list[Problem] = []
    cves: dict[Any, int] = {}
    for v, item in enumerate(as_list(doc.get("vulnerabilities"))):
        vuln, base = as_dict(item), f"/vulnerabilities/{v}"
        out += _status(vuln, base) + _scores(vuln, base) + _cwe(vuln, base)
        out += _involvements(vuln, base) + _without_products(vuln, base) + _flags(vuln, base)
        cve = vuln.get("cve")
        if cve is not None and cve in cves:
            out.append(
                Problem(
                    "6.1.23",
                    f"{base}/cve",
                    f"{cve} is already used by /vulnerabilities/{cves[cve]}",
                )
            )
        if cve is not None:
            cves.setdefault(cve, v)
    return out


def _status(vuln: dict[str, Any], base: str) -> list[Problem]:
    out = []
    status = as_dict(vuln.get("product_status"))
    group_of: dict[Any, str] = {}
    for group, keys in STATUS_GROUPS.items():
        for key in keys:
            for j, pid in enumerate(as_list(status.get(key))):
                if group_of.get(pid, group) != group:
                    message = f"product {pid} is both {group_of[pid]} and {group}"
                    out.append(Problem("6.1.6", f"{base}/product_status/{key}/{j}", message))
                group_of.setdefault(pid, group)
    return out


def _scores(vuln: dict[str, Any], base: str) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[Any, str, Any]] = set()
    for s, item in enumerate(as_list(vuln.get("scores"))):
        score = as_dict(item)
        for kind in ("cvss_v2", "cvss_v3"):
            data = as_dict(score.get(kind))
            if not data:
                continue
            path = f"{base}/scores/{s}/{kind}"
            out.extend(Problem(t, f"{path}{p}", m) for t, p, m in cvss.problems(kind, data))
            for j, pid in enumerate(as_list(score.get("products"))):
                key = (pid, kind, data.get("version"))
                if key in seen:
                    message = f"product {pid} has two {kind} scores of version {key[2]}"
                    out.append(Problem("6.1.7", f"{base}/scores/{s}/products/{j}", message))
                seen.add(key)
    return out


def _cwe(vuln: dict[str, Any], base: str) -> list[Problem]:
    cwe = as_dict(vuln.get("cwe"))
    if not cwe:
        return []
    ident = str(cwe.get("id", ""))
    number = ident.removeprefix("CWE-")
    named = bool(str(cwe.get("name", "")).strip())
    if ident.startswith("CWE-") and number.isdigit() and int(number) > 0 and named:
        return []
    return [Problem("6.1.11", f"{base}/cwe", f"{ident} is not a CWE with a name")]


def _involvements(vuln: dict[str, Any], base: str) -> list[Problem]:
    out = []
    parties: set[tuple[Any, Any]] = set()
    for i, item in enumerate(as_list(vuln.get("involvements"))):
        key = (as_dict(item).get("party"), as_dict(item).get("date"))
        if key in parties:
            message = f"party {key[0]} is involved twice at the same date"
            out.append(Problem("6.1.24", f"{base}/involvements/{i}", message))
        parties.add(key)
    return out


def _without_products(vuln: dict[str, Any], base: str) -> list[Problem]:
    out = []
    for key, test in (("remediations", "6.1.29"), ("flags", "6.1.32")):
        for i, item in enumerate(as_list(vuln.get(key))):
            if not as_dict(item).get("product_ids") and not as_dict(item).get("group_ids"):
                message = f"the {key[:-1]} names no product nor product group"
                out.append(Problem(test, f"{base}/{key}/{i}", message))
    return out


def _flags(vuln: dict[str, Any], base: str) -> list[Problem]:
    out = []
    flagged: set[Any] = set()
    for i, flag in enumerate(as_list(vuln.get("flags"))):
        for j, pid in enumerate(as_list(as_dict(flag).get("product_ids"))):
            if pid in flagged:
                message = f"product {pid} has two VEX justification flags"
                out.append(Problem("6.1.33", f"{base}/flags/{i}/product_ids/{j}", message))
            flagged.add(pid)
    return out
