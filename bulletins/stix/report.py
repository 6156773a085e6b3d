"""A published bulletin as a STIX 2.1 bundle (Flask-free): format ``stix`` (``.stix.json``,
``application/stix+json;version=2.1``, the media type STIX 2.1 §1.6 registers and TAXII 2.1
serves), registered in :mod:`bulletins.outputs.formats` at import.

The bundle holds the bulletin's TLP 2.0 ``marking-definition``, the CERT's ``identity``, a
``report`` (name: the French title; description: the summary; ``published``: the first
publication; ``report_types`` from the kind, its CVEs and indicators; ``labels``: risk, impact
and kind; ``external_references``: the bulletin's reference, then its links; ``lang: fr``), a
``vulnerability`` per CVE, an ``indicator`` per indicator whose value makes a valid pattern
(``valid_from``: the publication), and the English and Arabic title and summary as a
``language-content`` object (STIX 2.1 §7.1) when the bulletin has them. Every object but the
identity is marked with the bulletin's TLP and made by the CERT
(:mod:`incidents.sharing.stix_objects` builds the shared parts, so the identity and markings are
the very objects of the incident export and the TAXII server).

Ids are deterministic (:func:`incidents.sharing.stix_objects.stable_id` in the installation's
namespace, from the reference and the CVE or indicator): every revision of a bulletin has the
same ids, ``created`` is the first publication and ``modified`` the revision's publication — a
new revision is a new *version* of each object. The same published revision always gives the
same bytes for the same ``CERT_NAME``, which is what lets the TAXII collections store a copy
(:mod:`bulletins.stix.handlers`, which is handed the slice's settings): the ids come from the
reference's prefix (as in every STIX object Vigie makes, :class:`~incidents.sharing.stix_objects.
Producer`), the producer's name from ``CERT_NAME``, and no URL depends on ``CERT_BASE_URL``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re

from bulletins.models import BulletinKind
from bulletins.outputs.formats import Format, RenderContext, Rendered, register
from bulletins.outputs.view import BulletinView
from bulletins.rules.references import parse_reference
from incidents.sharing import stix_objects as so
from incidents.sharing.taxii_params import STIX_MEDIA

HEX = {"md5": 32, "sha1": 40, "sha256": 64}
DOMAIN = re.compile(r"^(?=.{1,253}$)([^\W_]([\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")  # IDN too
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KIND_TYPES = {
    BulletinKind.ADVISORY: "vulnerability",
    BulletinKind.ALERT: "threat-report",
    BulletinKind.NOTE: "threat-report",
    BulletinKind.DIGEST: "threat-report",
}


def producer_of(view: BulletinView, *, prefix: str, name: str) -> so.Producer:
    """The CERT as the bulletin's producer: ids seeded by the prefix of the bulletin's reference
    (a draft: the configured ``prefix``), named ``name`` (``CERT_NAME``)."""
    return so.Producer(parse_reference(view.reference)[0] if view.reference else prefix, name)


def valid_value(kind: str, value: str) -> bool:
    """Whether ``value`` is a ``kind`` indicator a STIX pattern may carry."""
    if kind in ("ipv4", "ipv6"):
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return False
        return net.version == (4 if kind == "ipv4" else 6)
    if kind in HEX:
        return len(value) == HEX[kind] and all(c in "0123456789abcdefABCDEF" for c in value)
    if kind == "domain":
        return bool(DOMAIN.match(value))
    if kind == "email":
        return bool(EMAIL.match(value))
    if kind == "url":
        return bool(re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value, re.I))
    return kind == "file" and bool(value.strip()) and "\n" not in value


def pattern(kind: str, value: str) -> str:
    if kind == "file":
        return f"[file:name = {so.literal(value)}]"
    return so.pattern(kind, value)


def _times(view: BulletinView, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(created, modified): the first publication and this revision's (a draft: now)."""
    if view.draft or view.published_at is None:
        return now, now
    return view.published_at, view.revised_at or view.published_at


def _key(view: BulletinView) -> str:
    return f"bulletin/{view.reference}" if view.reference and not view.draft else f"draft/{view.id}"


def stix_objects(view: BulletinView, *, producer: so.Producer, now: dt.datetime) -> list[so.Obj]:
    """The bulletin's own objects: its ``report``, then its vulnerabilities and indicators
    (not the identity and the marking definition, which :func:`bundle` adds)."""
    common = producer.common(view.tlp)
    ns = common.ns
    created, modified = _times(view, now)
    key = _key(view)
    scores = {s.get("cve"): s for s in view.scores if s.get("cve")}
    parts: list[so.Obj] = []
    for cve in view.cves:
        vuln: so.Obj = {
            "type": "vulnerability",
            "spec_version": "2.1",
            "id": so.stable_id("vulnerability", ns, f"{key}/{cve}"),
            "name": cve,
            "external_references": [{"source_name": "cve", "external_id": cve}],
        }
        if (score := scores.get(cve)) is not None:
            vector = f" ({score['vector']})" if score.get("vector") else ""
            vuln["description"] = (
                f"CVSS v{score.get('version', '3.1')} base score {score['base_score']}{vector}"
            )
        parts.append(common.stamp(vuln, created, modified))
    for item in view.indicators:
        kind, value = str(item.get("type", "")), str(item.get("value", "")).strip()
        if not valid_value(kind, value):
            continue
        ind: so.Obj = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": so.stable_id("indicator", ns, f"{key}/{kind}/{value}"),
            "name": f"{kind} {value}"[:250],
            "indicator_types": ["malicious-activity"],
            "pattern": pattern(kind, value),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": so.timestamp(created),
        }
        if view.reference:
            ind["description"] = f"Indicator of compromise of {view.reference}."
        parts.append(common.stamp(ind, created, modified))
    parts = list({obj["id"]: obj for obj in parts}.values())  # a CVE or value given twice
    rep = _report(view, common, key, parts, created, modified)
    translations = _translations(view, common, key, rep)
    return [rep, *parts, *translations]


def _translations(view: BulletinView, common: so.Common, key: str, rep: so.Obj) -> list[so.Obj]:
    """The English and Arabic versions of the report's name and description, as a STIX 2.1
    ``language-content`` object (§7.1), when the bulletin has them."""
    contents: dict[str, dict[str, str]] = {}
    for language in view.languages:
        if language == "fr":
            continue
        text = view.texts[language]
        contents[language] = {"name": text.title}
        if text.summary.strip():
            contents[language]["description"] = text.summary
    if not contents:
        return []
    obj: so.Obj = {
        "type": "language-content",
        "spec_version": "2.1",
        "id": so.stable_id("language-content", common.ns, key),
        "object_ref": rep["id"],
        "object_modified": rep["modified"],
        "contents": contents,
    }
    return [common.stamped(obj, rep["created"], rep["modified"])]


def _report(
    view: BulletinView,
    common: so.Common,
    key: str,
    parts: list[so.Obj],
    created: dt.datetime,
    modified: dt.datetime,
) -> so.Obj:
    text = view.text("fr")
    types = [KIND_TYPES[view.kind]]
    if view.cves and "vulnerability" not in types:
        types.append("vulnerability")
    if any(p["type"] == "indicator" for p in parts):
        types.append("indicator")
    refs: list[so.Obj] = []
    if view.reference:
        refs.append({"source_name": common.producer_name, "external_id": view.reference})
    refs += [{"source_name": "reference", "url": link} for link in dict.fromkeys(view.links)]
    report: so.Obj = {
        "type": "report",
        "spec_version": "2.1",
        "id": so.stable_id("report", common.ns, key),
        "name": text.title,
        "report_types": types,
        "published": so.timestamp(created),
        "object_refs": [p["id"] for p in parts] or [common.producer_ref],
        "labels": [
            f"risk:{view.risk.value}",
            f"impact:{view.impact.value}",
            f"bulletin:{view.kind.value}",
        ],
        "lang": "fr",
    }
    if text.summary.strip():
        report["description"] = text.summary
    if refs:
        report["external_references"] = refs
    return common.stamp(report, created, modified)


def bundle(view: BulletinView, *, producer: so.Producer, now: dt.datetime) -> so.Obj:
    """The whole bundle: marking definition, identity, report, vulnerabilities, indicators."""
    own = stix_objects(view, producer=producer, now=now)
    objects = [*so.markings_for(own), producer.identity(), *own]
    return so.bundle(producer.ns, f"{_key(view)}/{view.revision}", objects)


def render(ctx: RenderContext, view: BulletinView) -> Rendered:
    now = ctx.now or dt.datetime.now(dt.UTC)
    settings = ctx.settings
    producer = producer_of(view, prefix=settings.reference_prefix, name=settings.cert_name)
    body = bundle(view, producer=producer, now=now)
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return Rendered(text.encode(), STIX_MEDIA)


STIX = Format("stix", ".stix.json", STIX_MEDIA, render)
register(STIX)
