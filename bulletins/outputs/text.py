"""The ``text`` rendition (Flask-free): a bulletin as readable plain text (``.txt``, UTF-8) in
one of its languages, the TLP label on the first line and in the header, the same sections as the
HTML document (:mod:`bulletins.outputs.body`)."""

from __future__ import annotations

from bulletins.outputs import formats
from bulletins.outputs.body import CVE_URL, Body, body_of
from bulletins.outputs.formats import Format, RenderContext, Rendered
from bulletins.outputs.view import BulletinView


def _heading(text: str) -> list[str]:
    return ["", text, "-" * len(text)]


def _section(heading: str, text: str) -> list[str]:
    if not text.strip():
        return []
    return [*_heading(heading), text.replace("\r\n", "\n").strip("\n")]


def _head(b: Body) -> list[str]:
    view, t = b.view, b.t
    updated = b.updated + (f" ({t['revision']} {view.revision})" if view.revision else "")
    lines = [b.tlp, "", f"{b.cert_name} · {b.kind} · {b.tlp}"]
    if view.draft:
        lines.append(t["draft_notice"])
    return [
        *lines,
        "",
        b.title,
        "=" * min(len(b.title), 72),
        f"{t['reference']}: {b.reference}",
        f"{t['published']}: {b.published}",
        f"{t['updated']}: {updated}",
        f"{t['risk']}: {b.risk}",
        f"{t['impact']}: {b.impact}",
    ]


def _lists(b: Body) -> list[str]:
    view, t = b.view, b.t
    lines = _heading(t["affected"])
    for item in view.affected or [{}]:
        words = (item.get("vendor"), item.get("product"), item.get("versions"))
        lines.append("- " + (" ".join(w for w in words if w) or t["none"]))
    if view.cves:
        lines += _heading(t["cves"])
        lines += [f"- {cve}  {CVE_URL}{cve}" for cve in view.cves]
    if view.scores:
        lines += _heading(t["scores"])
        for score in view.scores:
            what = score.get("cve") or "—"
            vector = score.get("vector") or ""
            lines.append(f"- {what}: CVSS {score.get('version', '')} {score.get('base_score')} "
                         f"{vector}".rstrip())  # fmt: skip
    return lines


def plain_text(ctx: RenderContext, view: BulletinView) -> str:
    b = body_of(ctx, view)
    t = b.t
    lines = [*_head(b), *_lists(b)]
    lines += _section(b.summary_heading, b.summary)
    lines += _section(t["solution"], b.solution)
    lines += _section(t["risks"], b.risks)
    if b.groups:
        lines += _heading(t["indicators"])
        for group in b.groups:
            lines += ["", f"{group.label} ({len(group.items)})"]
            lines += [f"  {kind + ' ' if kind else ''}{value}" for kind, value in group.items]
    if view.links:
        lines += _heading(t["links"])
        lines += [f"- {link}" for link in view.links]
    if b.revisions:
        lines += _heading(t["history"])
        lines += [f"{number}. {when} — {summary}" for number, when, summary in b.revisions]
    lines += ["", b.tlp, ""]
    return "\n".join(lines)


def render(ctx: RenderContext, view: BulletinView) -> Rendered:
    return Rendered(plain_text(ctx, view).encode("utf-8"), TEXT.content_type)


TEXT = Format("text", ".txt", "text/plain; charset=utf-8", render)
formats.register(TEXT)
