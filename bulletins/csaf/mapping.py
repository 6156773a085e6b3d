"""A vendor's CSAF 2.0 advisory as a bulletin draft (pure): what the analyst starts from.

* title ``Vulnérabilité(s) dans <produits> — <vendor title>``; the vendor's notes make the
  summary, its remediations the solution, its CWE names the risks (in the vendor's language:
  the analyst translates and adapts);
* CVEs, CVSS v3/v2 scores, affected products (vendor / product / versions from the product tree:
  those ``known_affected``, else every product with a status, else the whole tree);
* references (http/https only); the risk level from the highest CVSS base score (≥ 9 critique,
  ≥ 7 important, ≥ 4 modéré, else faible; without a score, the vendor's aggregate severity);
* the TLP from ``distribution.tlp`` (TLP 1.0 ``WHITE`` is ``TLP:CLEAR``); a document without a
  label is ``TLP:CLEAR`` when fetched from a provider's URL (published), ``TLP:AMBER`` when read
  from a file (it may have been shared privately): the analyst lowers it knowingly.
"""

from __future__ import annotations

import re
from typing import Any

from bulletins.authoring.schemas import CVE, DraftIn
from bulletins.csaf.shapes import as_dict, as_list
from bulletins.models import MAX_TITLE, BulletinKind, RiskLevel

LONG = 20_000
SHORT = 200
LINK = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
TLP_FROM_V1 = {"WHITE": "TLP:CLEAR", "GREEN": "TLP:GREEN", "AMBER": "TLP:AMBER", "RED": "TLP:RED"}
REMEDIATIONS = {
    "vendor_fix": "Correctif de l'éditeur",
    "mitigation": "Mesure d'atténuation",
    "workaround": "Contournement",
    "no_fix_planned": "Pas de correctif prévu",
    "none_available": "Aucun correctif disponible",
}
SEVERITY_WORDS = (
    (RiskLevel.CRITICAL, ("critical", "critique")),
    (RiskLevel.IMPORTANT, ("high", "important", "élevé", "eleve")),
    (RiskLevel.MODERATE, ("moderate", "medium", "modéré", "modere")),
    (RiskLevel.LOW, ("low", "faible")),
)
AFFECTED_STATUSES = ("known_affected", "first_affected", "last_affected")


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def products(doc: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """product id → (vendor, product, versions) from the product tree's branches and names."""
    out: dict[str, tuple[str, str, str]] = {}

    def walk(branches: list[Any], vendor: str, product: str, version: str) -> None:
        for item in branches:
            branch = as_dict(item)
            name, category = str(branch.get("name", "")), branch.get("category")
            v, p, ver = vendor, product, version
            if category == "vendor":
                v = name
            elif category in ("product_name", "product_family") and not p:
                p = name
            elif category in ("product_version", "product_version_range"):
                ver = name
            full = as_dict(branch.get("product"))
            if full.get("product_id"):
                out[str(full["product_id"])] = (v, p or str(full.get("name", "")), ver)
            walk(as_list(branch.get("branches")), v, p, ver)

    tree = as_dict(doc.get("product_tree"))
    walk(as_list(tree.get("branches")), "", "", "")
    for item in as_list(tree.get("full_product_names")):
        full = as_dict(item)
        out.setdefault(str(full.get("product_id")), ("", str(full.get("name", "")), ""))
    for item in as_list(tree.get("relationships")):
        full = as_dict(as_dict(item).get("full_product_name"))
        out.setdefault(str(full.get("product_id")), ("", str(full.get("name", "")), ""))
    return out


def affected(doc: dict[str, Any]) -> list[dict[str, str]]:
    """One entry per (vendor, product), its versions joined, in the tree's order."""
    tree = products(doc)
    vulns = [as_dict(v) for v in as_list(doc.get("vulnerabilities"))]
    chosen: list[str] = []
    for statuses in (AFFECTED_STATUSES, None):
        for vuln in vulns:
            for key, ids in as_dict(vuln.get("product_status")).items():
                if (statuses is None and key != "known_not_affected") or (
                    statuses is not None and key in statuses
                ):
                    chosen += [str(p) for p in as_list(ids) if str(p) not in chosen]
        if chosen:
            break
    chosen = [p for p in chosen if p in tree] or list(tree)
    grouped: dict[tuple[str, str], list[str]] = {}
    for pid in chosen:
        vendor, product, version = tree[pid]
        versions = grouped.setdefault((vendor, product or pid), [])
        if version and version not in versions:
            versions.append(version)
    return [
        {"vendor": _clip(v, SHORT), "product": _clip(p, SHORT) or "?",
         "versions": _clip(", ".join(vs), SHORT)}
        for (v, p), vs in list(grouped.items())[:500]
    ]  # fmt: skip


def scores(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str | None, str]] = set()
    for item in as_list(doc.get("vulnerabilities")):
        vuln = as_dict(item)
        cve = vuln.get("cve") if CVE.match(str(vuln.get("cve", ""))) else None
        for score in as_list(vuln.get("scores")):
            for kind in ("cvss_v3", "cvss_v2"):
                data = as_dict(as_dict(score).get(kind))
                version = str(data.get("version", ""))
                if not data or (cve, version) in seen or version not in ("2.0", "3.0", "3.1"):
                    continue
                seen.add((cve, version))
                out.append({"cve": cve, "version": version,
                            "base_score": float(data.get("baseScore", 0)),
                            "vector": _clip(str(data.get("vectorString", "")), SHORT)})  # fmt: skip
    return out[:1000]


def risk(doc: dict[str, Any], found: list[dict[str, Any]]) -> RiskLevel:
    if found:
        top = max(float(s["base_score"]) for s in found)
        if top >= 9:
            return RiskLevel.CRITICAL
        if top >= 7:
            return RiskLevel.IMPORTANT
        return RiskLevel.MODERATE if top >= 4 else RiskLevel.LOW
    text = str(as_dict(as_dict(doc.get("document")).get("aggregate_severity")).get("text", ""))
    for level, words in SEVERITY_WORDS:
        if any(w in text.lower() for w in words):
            return level
    return RiskLevel.MODERATE


def links(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    places = [as_dict(doc.get("document")).get("references")]
    for item in as_list(doc.get("vulnerabilities")):
        vuln = as_dict(item)
        places += [vuln.get("references"), vuln.get("remediations")]
    for place in places:
        for ref in as_list(place):
            url = str(as_dict(ref).get("url", "")).strip()
            if url and LINK.match(url) and len(url) <= 2048 and url not in out:
                out.append(url)
    return out[:200]


def _notes(doc: dict[str, Any]) -> str:
    parts: list[str] = []
    for raw in as_list(as_dict(doc.get("document")).get("notes")):
        note = as_dict(raw)
        if note.get("category") in ("summary", "description", "details", "general"):
            parts.append(_titled(note))
    for item in as_list(doc.get("vulnerabilities")):
        vuln = as_dict(item)
        for raw in as_list(vuln.get("notes")):
            note = as_dict(raw)
            if note.get("category") in ("summary", "description"):
                label = vuln.get("cve") or vuln.get("title") or ""
                parts.append(_titled(note, prefix=f"{label} — " if label else ""))
    return _clip("\n\n".join(p for p in parts if p), LONG)


def _titled(note: dict[str, Any], prefix: str = "") -> str:
    title, text = str(note.get("title", "")).strip(), str(note.get("text", "")).strip()
    return f"{prefix}{title}\n{text}" if title else f"{prefix}{text}"


def _solution(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for item in as_list(doc.get("vulnerabilities")):
        for raw in as_list(as_dict(item).get("remediations")):
            rem = as_dict(raw)
            label = REMEDIATIONS.get(str(rem.get("category")), str(rem.get("category")))
            line = f"{label} : {str(rem.get('details', '')).strip()}"
            if rem.get("url"):
                line += f" ({rem['url']})"
            if line not in lines:
                lines.append(line)
    return _clip("\n\n".join(lines), LONG)


def _risks(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for item in as_list(doc.get("vulnerabilities")):
        cwe = as_dict(as_dict(item).get("cwe"))
        line = f"{cwe.get('id')} : {cwe.get('name')}" if cwe else ""
        if line and line not in lines:
            lines.append(line)
    return _clip("\n".join(lines), LONG)


def title(doc: dict[str, Any], systems: list[dict[str, str]]) -> str:
    names: list[str] = []
    for item in systems:
        name = " ".join(p for p in (item["vendor"], item["product"]) if p)
        if name not in names:
            names.append(name)
    shown = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
    count = len(as_list(doc.get("vulnerabilities")))
    head = ("Vulnérabilités dans " if count != 1 else "Vulnérabilité dans ") + (shown or "?")
    vendor = str(as_dict(doc.get("document")).get("title", "")).strip()
    return _clip(f"{head} — {vendor}" if vendor else head, MAX_TITLE)


def draft(doc: dict[str, Any], *, published: bool) -> DraftIn:
    """The draft for ``doc`` (schema-valid and through the §6.1 tests already)."""
    systems = affected(doc)
    found = scores(doc)
    level = risk(doc, found)
    label = str(as_dict(as_dict(as_dict(doc.get("document")).get("distribution")).get("tlp")).get(
        "label", ""))  # fmt: skip
    tlp = TLP_FROM_V1.get(label, "TLP:CLEAR" if published else "TLP:AMBER")
    cves: list[str] = []
    for item in as_list(doc.get("vulnerabilities")):
        cve = str(as_dict(item).get("cve", ""))
        if CVE.match(cve) and cve not in cves:
            cves.append(cve)
    text = {"title": title(doc, systems), "summary": _notes(doc), "solution": _solution(doc),
            "risks": _risks(doc)}  # fmt: skip
    return DraftIn.model_validate(
        {"kind": BulletinKind.ADVISORY, "tlp": tlp, "risk": level, "impact": level,
         "affected": systems, "cves": cves[:1000], "links": links(doc), "scores": found,
         "texts": {"fr": text}}
    )  # fmt: skip
