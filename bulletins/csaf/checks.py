"""The CSAF 2.0 mandatory tests a JSON schema cannot express (§6.1 of the standard), pure:
:func:`problems` takes a parsed document and returns one :class:`Problem` (test id, JSON path,
message) per failure. Implemented: 6.1.1–6.1.7, 6.1.8 (CVSS severity/version consistency),
6.1.9 (CVSS v3 base score computed from the vector), 6.1.10, 6.1.11 (CWE id form and name; the
CWE catalogue is not shipped), 6.1.14–6.1.26, 6.1.27.1–6.1.27.11, 6.1.28–6.1.33.

The document is expected to be schema-valid; the tests still never fail on odd shapes.
"""

from __future__ import annotations

from typing import Any

from bulletins.csaf.history import revisions
from bulletins.csaf.products import product_ids, version_ranges
from bulletins.csaf.shapes import Problem, as_dict, as_list
from bulletins.csaf.vulns import statuses_and_scores

__all__ = ["Problem", "problems"]

PROFILES = {
    "csaf_base": "CSAF Base",
    "csaf_security_incident_response": "CSAF Security Incident Response",
    "csaf_informational_advisory": "CSAF Informational Advisory",
    "csaf_security_advisory": "CSAF Security Advisory",
    "csaf_vex": "CSAF VEX",
}


def document_level(doc: dict[str, Any]) -> list[Problem]:
    """6.1.15, 6.1.26, 6.1.27.x, 6.1.28, 6.1.31."""
    out: list[Problem] = []
    meta = as_dict(doc.get("document"))
    publisher = as_dict(meta.get("publisher"))
    if publisher.get("category") == "translator" and not meta.get("source_lang"):
        out.append(
            Problem(
                "6.1.15",
                "/document/source_lang",
                "a translator's document names its source language",
            )
        )
    if meta.get("source_lang") and meta.get("source_lang") == meta.get("lang"):
        out.append(
            Problem(
                "6.1.28", "/document/lang", "a translation is in another language than its source"
            )
        )
    category = str(meta.get("category", ""))
    if category not in PROFILES:
        squashed = "".join(c for c in category.lower() if c not in "-_ ")
        others = {n[5:].replace("_", "") for n in PROFILES if n != "csaf_base"} | {
            t.lower().replace(" ", "") for n, t in PROFILES.items() if n != "csaf_base"
        }
        if category.lower().startswith("csaf_") or squashed in others:
            out.append(
                Problem(
                    "6.1.26",
                    "/document/category",
                    f"the category {category} is reserved or names a profile",
                )
            )
    out.extend(_profile(doc, category))
    out.extend(
        version_ranges(
            as_list(as_dict(doc.get("product_tree")).get("branches")), "/product_tree/branches"
        )
    )
    return out


def _profile(doc: dict[str, Any], category: str) -> list[Problem]:
    out: list[Problem] = []
    meta = as_dict(doc.get("document"))
    if category in ("csaf_informational_advisory", "csaf_security_incident_response"):
        kinds = {as_dict(n).get("category") for n in as_list(meta.get("notes"))}
        if not kinds & {"description", "details", "general", "summary"}:
            message = "the profile needs a description, details, general or summary note"
            out.append(Problem("6.1.27.1", "/document/notes", message))
        refs = {as_dict(r).get("category", "external") for r in as_list(meta.get("references"))}
        if "external" not in refs:
            message = "the profile needs an external reference"
            out.append(Problem("6.1.27.2", "/document/references", message))
    if category == "csaf_informational_advisory" and "vulnerabilities" in doc:
        message = "an informational advisory has no vulnerabilities"
        out.append(Problem("6.1.27.3", "/vulnerabilities", message))
    if category in ("csaf_security_advisory", "csaf_vex"):
        out.extend(_advisory(doc, category))
    return out


def _advisory(doc: dict[str, Any], category: str) -> list[Problem]:
    out: list[Problem] = []
    vulns = as_list(doc.get("vulnerabilities"))
    if "product_tree" not in doc:
        out.append(Problem("6.1.27.4", "/product_tree", "the profile needs a product tree"))
    if not vulns:
        out.append(Problem("6.1.27.11", "/vulnerabilities", "the profile needs vulnerabilities"))
    for v, item in enumerate(vulns):
        vuln, base = as_dict(item), f"/vulnerabilities/{v}"
        if "notes" not in vuln:
            out.append(Problem("6.1.27.5", f"{base}/notes", "the vulnerability needs notes"))
        if category == "csaf_security_advisory" and "product_status" not in vuln:
            message = "the vulnerability needs a product status"
            out.append(Problem("6.1.27.6", f"{base}/product_status", message))
        if category == "csaf_vex":
            out.extend(_vex(vuln, base))
    return out


def _vex(vuln: dict[str, Any], base: str) -> list[Problem]:
    out = []
    status = as_dict(vuln.get("product_status"))
    if not {"fixed", "known_affected", "known_not_affected", "under_investigation"} & set(status):
        out.append(
            Problem(
                "6.1.27.7",
                f"{base}/product_status",
                "a VEX status needs fixed, known (not) affected or under investigation",
            )
        )
    if "cve" not in vuln and "ids" not in vuln:
        out.append(Problem("6.1.27.8", base, "a VEX vulnerability needs a CVE or ids"))
    stated = {p for f in as_list(vuln.get("flags")) for p in as_list(as_dict(f).get("product_ids"))}
    stated |= {
        p
        for t in as_list(vuln.get("threats"))
        if as_dict(t).get("category") == "impact"
        for p in as_list(as_dict(t).get("product_ids"))
    }
    for j, pid in enumerate(as_list(status.get("known_not_affected"))):
        if pid not in stated:
            out.append(
                Problem(
                    "6.1.27.9",
                    f"{base}/product_status/known_not_affected/{j}",
                    f"product {pid} has no impact statement",
                )
            )
    acted = {
        p for r in as_list(vuln.get("remediations")) for p in as_list(as_dict(r).get("product_ids"))
    }
    for j, pid in enumerate(as_list(status.get("known_affected"))):
        if pid not in acted:
            out.append(
                Problem(
                    "6.1.27.10",
                    f"{base}/product_status/known_affected/{j}",
                    f"product {pid} has no action statement",
                )
            )
    return out


def problems(doc: Any) -> list[Problem]:
    """Every §6.1 failure of ``doc``, in test order."""
    if not isinstance(doc, dict):
        return [Problem("6.1", "/", "the document is not a JSON object")]
    found = [*product_ids(doc), *statuses_and_scores(doc), *revisions(doc), *document_level(doc)]
    return sorted(found, key=lambda p: [int(x) for x in p.test.split(".")])
