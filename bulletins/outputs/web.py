"""A bulletin's page and downloads (blueprint ``bulletins``):

* ``GET /bulletins/<id>`` (``bulletins.show``): CERT staff see a draft as it stands (marked as a
  draft, with its status) and a published bulletin as published, with a notice when a revision is
  in progress (``?preview=1`` shows that revision); any other account sees what
  :func:`bulletins.access.can_read` allows, as it was published, else 404. ``?lang=fr|en|ar``
  picks the language version among the bulletin's;
* ``GET /bulletins/<id>/download/<format>`` (``bulletins.download``): every registered format
  (:mod:`bulletins.outputs.formats`) as an attachment, same rule (``?language=``, ``?preview=1``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bulletins.access import can_read, sees_drafts
from bulletins.blueprints import pages as bp
from bulletins.models import Bulletin, BulletinIncident, BulletinStatus
from bulletins.outputs import formats
from bulletins.outputs.html import render_body
from bulletins.outputs.view import BulletinView, current_view, published_view
from bulletins.settings import of_context
from core.web import context, get_session
from core.web.auth import current_actor, login_required
from incidents.access import visible
from incidents.models import Incident

STATUSES = {
    BulletinStatus.DRAFT: _l("Draft"),
    BulletinStatus.REVIEW: _l("In review"),
    BulletinStatus.APPROVED: _l("Approved"),
    BulletinStatus.PUBLISHED: _l("Published"),
}
FORMAT_NAMES = {
    "html": _l("HTML document"),
    "text": _l("Plain text"),
    "pdf": "PDF",
    "csaf": "CSAF 2.0",
    "stix": "STIX 2.1",
}


def _readable(bulletin_id: int) -> tuple[Bulletin, BulletinView, bool]:
    """The bulletin, the view the signed-in account may see, and whether that view is the live
    draft (CERT staff only); 404 for anything else (no hint that it exists)."""
    session, actor = get_session(), current_actor()
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None or not can_read(session, actor, bulletin):
        abort(404)
    live = sees_drafts(actor) and (bulletin.revision == 0 or request.args.get("preview") == "1")
    view = current_view(session, bulletin) if live else published_view(session, bulletin)
    if view is None:
        abort(404)
    return bulletin, view, live


def _language(view: BulletinView, asked: str | None) -> str:
    """The asked language when the bulletin has it, else the interface's, else French."""
    for language in (asked, str(get_locale() or "")):
        if language in view.languages:
            return language
    return "fr"


def _render_context(language: str) -> formats.RenderContext:
    settings = of_context(current_app.extensions)
    return formats.RenderContext(
        session=get_session(),
        settings=settings,
        language=language,
        base_url=settings.base_url or request.host_url.rstrip("/"),
        now=context().clock.now(),
    )


@bp.get("/bulletins/<int:bulletin_id>")
@login_required
def show(bulletin_id: int) -> ResponseReturnValue:
    bulletin, view, live = _readable(bulletin_id)
    language = _language(view, request.args.get("lang"))
    staff = sees_drafts(current_actor())
    preview: dict[str, Any] = {"preview": "1"} if live and bulletin.revision > 0 else {}
    return render_template(
        "bulletins/show.html",
        bulletin=bulletin,
        view=view,
        body=render_body(_render_context(language), view),
        language=language,
        staff=staff,
        live=live,
        preview=preview,
        revising=bulletin.revision > 0 and bulletin.status != BulletinStatus.PUBLISHED,
        status=STATUSES[bulletin.status],
        versions=[
            (code, url_for("bulletins.show", bulletin_id=bulletin.id, lang=code, **preview))
            for code in view.languages
        ],  # fmt: skip
        downloads=_downloads(bulletin.id, language, preview),
        incidents=_incidents(bulletin.id) if staff else [],
    )


@bp.get("/bulletins/<int:bulletin_id>/download/<format>")
@login_required
def download(bulletin_id: int, format: str) -> ResponseReturnValue:  # noqa: A002
    fmt = formats.FORMATS.get(format)
    if fmt is None:
        abort(404)
    _, view, _ = _readable(bulletin_id)
    rendered = fmt.render(_render_context(_language(view, request.args.get("language"))), view)
    response = Response(rendered.body, content_type=rendered.content_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{formats.file_name(view, fmt)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _downloads(bulletin_id: int, language: str, preview: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": FORMAT_NAMES.get(name, name),
            "suffix": fmt.suffix,
            "url": url_for(
                "bulletins.download",
                bulletin_id=bulletin_id,
                format=name,
                language=language,
                **preview,
            ),  # fmt: skip
        }
        for name, fmt in sorted(formats.FORMATS.items())
    ]


def _incidents(bulletin_id: int) -> list[tuple[str, str]]:
    """(reference, title) of the incidents a bulletin was written from (CERT staff only), those
    the reader may see (:func:`incidents.access.visible`: another centre's are not named)."""
    rows = get_session().execute(
        select(Incident.reference, Incident.title)
        .join(BulletinIncident, BulletinIncident.incident_id == Incident.id)
        .where(BulletinIncident.bulletin_id == bulletin_id, visible(current_actor()))
        .order_by(Incident.reference)
    )
    return [(reference, title) for reference, title in rows]
