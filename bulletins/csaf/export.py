"""A bulletin as a CSAF 2.0 document (Flask-free), registered as the ``csaf`` format.

A vulnerability advisory is a ``csaf_security_advisory`` (product tree from the affected systems,
one vulnerability per CVE with its scores, remediation and impact); the other kinds are
``csaf_base`` documents (their indicators as a note). The document is in French (``lang: fr``),
published by the CERT as ``coordinator``. CSAF 2.0 knows TLP 1.0 only: ``TLP:CLEAR`` is
``WHITE``, ``TLP:AMBER+STRICT`` is ``AMBER`` with the restriction in ``distribution.text``
(standards §2/§7). ``tracking`` follows the bulletin's published revisions; a staff preview of a
draft is a ``draft`` document. Renderers read a :class:`BulletinView` only (the published one for
anyone but staff), so a revision in progress never leaks into an export.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bulletins.csaf import cvss as cvss_rules
from bulletins.models import BulletinKind, RiskLevel
from bulletins.outputs.formats import Format, RenderContext, Rendered, register
from bulletins.outputs.view import BulletinView
from bulletins.settings import BulletinSettings
from core.markings import Tlp

CONTENT_TYPE = "application/json"
DEFAULT_NAMESPACE = "https://vigie.invalid"  # without CERT_BASE_URL (set it in production)
TLP_URL = "https://www.first.org/tlp/"
RISK_FR = {
    RiskLevel.CRITICAL: "Critique",
    RiskLevel.IMPORTANT: "Important",
    RiskLevel.MODERATE: "Modéré",
    RiskLevel.LOW: "Faible",
}
TLP_V1 = {
    Tlp.CLEAR: "WHITE",
    Tlp.GREEN: "GREEN",
    Tlp.AMBER: "AMBER",
    Tlp.AMBER_STRICT: "AMBER",
    Tlp.RED: "RED",
}
TLP_TEXT = {
    Tlp.CLEAR: "TLP:CLEAR : diffusion libre.",
    Tlp.GREEN: "TLP:GREEN : diffusion limitée à la communauté.",
    Tlp.AMBER: "TLP:AMBER : diffusion limitée aux organisations destinataires et à leurs clients "
    "ou partenaires qui ont besoin de savoir.",
    Tlp.AMBER_STRICT: "TLP:AMBER+STRICT : diffusion limitée à l'organisation destinataire "
    "seulement (CSAF 2.0 ne connaît que TLP 1.0 : étiquette AMBER).",
    Tlp.RED: "TLP:RED : réservé aux destinataires nommés, aucune rediffusion.",
}
INDICATOR_LABELS = {
    "ipv4": "IP",
    "ipv6": "IP",
    "domain": "Domaines",
    "url": "URL",
    "md5": "Hashs (MD5)",
    "sha1": "Hashs (SHA-1)",
    "sha256": "Hashs (SHA-256)",
    "email": "Adresses e-mail",
    "file": "Chemins de fichiers",
}
DISCLAIMER = (
    "Ce document est fourni à titre d'information par {cert}, sans garantie. Les informations "
    "proviennent des éditeurs et des sources citées ; appliquez les correctifs après les avoir "
    "validés dans votre environnement."
)
VERSION_RANGE = re.compile(
    r"[<>=,\s]|\b(after|all|before|earlier|later|prior|versions)\b", re.IGNORECASE
)
VECTOR_V3 = re.compile(
    r"^CVSS:3\.[01]/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH]"
)
VECTOR_V2 = re.compile(r"^(\(?AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC]\)?)")
FIX_WORDS = re.compile(
    r"correctif|mise à jour|mettre à jour|mise a jour|version|patch|update", re.IGNORECASE
)


def category(kind: BulletinKind) -> str:
    return "csaf_security_advisory" if kind == BulletinKind.ADVISORY else "csaf_base"


def csaf_file_name(tracking_id: str) -> str:
    """The CSAF file name rule: ``MACERT-AVI-2026-0042`` → ``macert-avi-2026-0042.json``."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def tracking_id(view: BulletinView) -> str:
    return view.reference or f"bulletin-{view.id}-draft"


def document(
    view: BulletinView,
    settings: BulletinSettings,
    *,
    base_url: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """``view`` as a CSAF 2.0 document (a dict ready for ``json.dumps``)."""
    now = now or dt.datetime.now(dt.UTC)
    base = (base_url or settings.base_url).rstrip("/")
    text = view.text("fr")
    doc: dict[str, Any] = {
        "category": category(view.kind),
        "csaf_version": "2.0",
        "publisher": {
            "category": "coordinator",
            "name": settings.cert_name,
            "namespace": base or DEFAULT_NAMESPACE,
        },
        "title": text.title,
        "lang": "fr",
        "distribution": {
            "text": TLP_TEXT[view.tlp],
            "tlp": {"label": TLP_V1[view.tlp], "url": TLP_URL},
        },
        "aggregate_severity": {"text": RISK_FR[view.risk]},
        "notes": _document_notes(view, settings),
        "tracking": _tracking(view, now),
    }
    if base:
        doc["aggregate_severity"]["namespace"] = f"{base}/advisories/"
    references = _references(view, base)
    if references:
        doc["references"] = references
    out: dict[str, Any] = {"document": doc}
    if view.kind == BulletinKind.ADVISORY:
        tree, ids = _product_tree(view)
        out["product_tree"] = tree
        out["vulnerabilities"] = _vulnerabilities(view, ids)
    return out


def render(ctx: RenderContext, view: BulletinView) -> Rendered:
    doc = document(view, ctx.settings, base_url=ctx.base_url, now=ctx.now)
    body = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    return Rendered(body.encode("utf-8"), CONTENT_TYPE)


def _date(value: dt.datetime | None, now: dt.datetime) -> str:
    moment = value or now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tracking(view: BulletinView, now: dt.datetime) -> dict[str, Any]:
    history = [
        {"date": _date(r.published_at, now), "number": str(r.number), "summary": r.summary}
        for r in view.revisions
    ]
    if view.draft:
        # a staff preview: the revision being written, after the published ones
        number = str(view.revisions[-1].number + 1) if view.revisions else "0"
        history.append(
            {"date": _date(now, now), "number": number, "summary": "Brouillon (non publié)"}
        )
    version = history[-1]["number"]
    return {
        "id": tracking_id(view),
        "status": "draft" if view.draft else "final",
        "version": version,
        "revision_history": history,
        "initial_release_date": _date(view.published_at, now),
        "current_release_date": _date(view.revised_at if not view.draft else now, now),
        "generator": {"date": _date(now, now), "engine": {"name": "Vigie"}},
    }


def _note(category_: str, title: str, text: str) -> dict[str, str]:
    return {"category": category_, "title": title, "text": text}


def _document_notes(view: BulletinView, settings: BulletinSettings) -> list[dict[str, str]]:
    text = view.text("fr")
    advisory = view.kind == BulletinKind.ADVISORY
    notes = []
    if text.summary.strip():
        title = "Bilan de la vulnérabilité" if advisory else "Résumé"
        notes.append(_note("summary", title, text.summary))
    if text.risks.strip():
        notes.append(_note("details", "Risque", text.risks))
    if text.solution.strip():
        notes.append(_note("general", "Solution", text.solution))
    notes.append(_note("general", "Niveau d'impact", RISK_FR[view.impact]))
    if view.indicators:
        notes.append(
            _note("other", "Indicateurs de compromission (IOCs)", _indicators(view.indicators))
        )
    notes.append(
        _note(
            "legal_disclaimer",
            "Conditions d'utilisation",
            DISCLAIMER.format(cert=settings.cert_name),
        )
    )
    return notes


def _indicators(indicators: list[dict[str, Any]]) -> str:
    groups: dict[str, list[str]] = {}
    for item in indicators:
        label = INDICATOR_LABELS.get(str(item.get("type")), str(item.get("type")))
        groups.setdefault(label, []).append(str(item.get("value", "")))
    return "\n\n".join(f"{label} :\n" + "\n".join(values) for label, values in groups.items())


def _references(view: BulletinView, base: str) -> list[dict[str, str]]:
    refs = []
    if base and view.reference and not view.draft and view.tlp == Tlp.CLEAR:
        url = f"{base}/advisories/{view.reference}"
        refs.append(
            {"category": "self", "summary": f"{view.reference} (archive publique)", "url": url}
        )
    for link in view.links:
        refs.append({"category": "external", "summary": link, "url": link})
    return refs


def _product_tree(view: BulletinView) -> tuple[dict[str, Any], list[str]]:
    """Branches vendor → product_name → product_version(_range); the product ids in order."""
    vendors: dict[str, dict[str, list[tuple[str, str]]]] = {}
    ids: list[str] = []
    for number, item in enumerate(view.affected, start=1):
        vendor = str(item.get("vendor") or "").strip() or "Éditeur non précisé"
        product = str(item.get("product") or "").strip() or "Produit non précisé"
        pid = f"CSAFPID-{number:04d}"
        ids.append(pid)
        vendors.setdefault(vendor, {}).setdefault(product, []).append(
            (pid, str(item.get("versions") or "").strip())
        )
    if not ids:
        name = view.text("fr").title
        return {"full_product_names": [{"name": name, "product_id": "CSAFPID-0001"}]}, [
            "CSAFPID-0001"
        ]
    branches = []
    for vendor, products in vendors.items():
        product_branches = []
        for product, versions in products.items():
            product_branches.append(_product_branch(vendor, product, versions))
        branches.append({"category": "vendor", "name": vendor, "branches": product_branches})
    return {"branches": branches}, ids


def _product_branch(vendor: str, product: str, versions: list[tuple[str, str]]) -> dict[str, Any]:
    branch: dict[str, Any] = {"category": "product_name", "name": product}
    leaves: list[dict[str, Any]] = []
    for pid, given in versions:
        full = {"name": f"{vendor} {product} {given}".strip(), "product_id": pid}
        if not given and "product" not in branch and not leaves:
            branch["product"] = full
            continue
        version = given or "toutes versions"
        leaf = "product_version_range" if VERSION_RANGE.search(version) else "product_version"
        leaves.append({"category": leaf, "name": version, "product": full})
    if leaves:
        if "product" in branch:  # a branch holds either a product or branches
            orphan = branch.pop("product")
            leaves.insert(
                0,
                {"category": "product_version_range", "name": "toutes versions", "product": orphan},
            )
        branch["branches"] = leaves
    return branch


def _vulnerabilities(view: BulletinView, ids: list[str]) -> list[dict[str, Any]]:
    text = view.text("fr")
    description = text.summary.strip() or text.title
    cves: list[str | None] = list(view.cves) or [None]
    out = []
    for cve in cves:
        vuln: dict[str, Any] = {}
        if cve:
            vuln["cve"] = cve
            vuln["references"] = [
                {
                    "category": "external",
                    "summary": cve,
                    "url": f"https://www.cve.org/CVERecord?id={cve}",
                }
            ]
        else:
            vuln["title"] = text.title
        vuln["notes"] = [_note("description", "Bilan de la vulnérabilité", description)]
        if text.risks.strip():
            vuln["notes"].append(_note("details", "Risque", text.risks))
        vuln["product_status"] = {"known_affected": list(ids)}
        if text.solution.strip():
            fix = "vendor_fix" if FIX_WORDS.search(text.solution) else "mitigation"
            vuln["remediations"] = [
                {"category": fix, "details": text.solution, "product_ids": list(ids)}
            ]
        scores = _scores(view.scores, cve, ids)
        if scores:
            vuln["scores"] = scores
        vuln["threats"] = [
            {"category": "impact", "details": RISK_FR[view.impact], "product_ids": list(ids)}
        ]
        out.append(vuln)
    return out


def _scores(scores: list[dict[str, Any]], cve: str | None, ids: list[str]) -> list[dict[str, Any]]:
    """The CVSS v3/v2 scores of ``cve`` (and those for no CVE), one per CVSS version (§6.1.7).
    A score without a well-formed vector is left out (the schema requires one); CSAF 2.0 has no
    place for CVSS v4."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for score in scores:
        if score.get("cve") not in (None, cve):
            continue
        version = str(score.get("version") or "")
        vector = str(score.get("vector") or "").strip()
        base = round(float(score.get("base_score") or 0), 1)
        if version in ("3.0", "3.1") and VECTOR_V3.match(vector):
            if not vector.startswith(f"CVSS:{version}/") or version in seen:
                continue
            cvss: dict[str, Any] = {
                "version": version,
                "vectorString": vector,
                "baseScore": base,
                "baseSeverity": cvss_rules.severity(base),
            }
            out.append({"cvss_v3": cvss, "products": list(ids)})
        elif version == "2.0" and VECTOR_V2.match(vector) and version not in seen:
            out.append(
                {
                    "cvss_v2": {
                        "version": "2.0",
                        "vectorString": vector.strip("()"),
                        "baseScore": base,
                    },
                    "products": list(ids),
                }
            )
        else:
            continue
        seen.add(version)
    return out


FORMAT = Format("csaf", ".csaf.json", CONTENT_TYPE, render)
register(FORMAT)
