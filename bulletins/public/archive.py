"""The public archive (blueprint ``bulletins_public``, no account): published ``TLP:CLEAR``
bulletins at ``/advisories`` (newest first, filters kind, year and q, in the visitor's language),
one bulletin at ``/advisories/<reference>`` with its public renditions
(``/advisories/<reference>.<suffix>``), and the RSS 2.0 and Atom 1.0 feeds of the latest 50.

Whoever asks — signed in or not — sees only :func:`bulletins.public.queries.public`: anything
else is a 404, the same whether it exists or not.
"""

from __future__ import annotations

from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import func, select

from bulletins.blueprints import public as bp
from bulletins.models import Bulletin
from bulletins.outputs import formats
from bulletins.outputs.view import BulletinView
from bulletins.public import downloads
from bulletins.public.queries import BulletinFilter, bulletin_query, find_public, public, views_of
from bulletins.public.syndication import Channel, Entry, atom, rss
from core.errors import NotFound, ValidationFailed
from core.inputs import field_errors
from core.markings import css_class
from core.web import context, get_session, page_number
from core.web.auth import current_account

PER_PAGE = 20
FEED_SIZE = 50
CACHE = "public, max-age=300"
FILTERS = ("kind", "year", "q")


def _language() -> str:
    locale = str(get_locale() or "fr")
    return locale if locale in downloads.LANGUAGES else "fr"


def _filter() -> BulletinFilter:
    """``kind``, ``year`` and ``q`` of the query string (empty ones ignored); 422 naming a bad
    one."""
    values = {k: request.args[k] for k in FILTERS if request.args.get(k, "").strip()}
    try:
        return BulletinFilter.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid filters", fields=field_errors(exc.errors(include_url=False), "query")
        ) from None


@bp.get("/advisories")
def archive() -> ResponseReturnValue:
    f = _filter()
    page = page_number()
    session = get_session()
    query = bulletin_query(None, f).where(public())
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Bulletin.published_at.desc(), Bulletin.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    views = views_of(session, rows, staff=False)
    years = sorted(
        {y for y in session.scalars(select(Bulletin.year).where(public()).distinct()) if y},
        reverse=True,
    )
    html = render_template(
        "bulletins/public/archive.html", views=views, total=total, page=page,
        has_next=page * PER_PAGE < total, language=_language(), f=f, years=years,
        tlp_class=css_class,
    )  # fmt: skip
    return _cached(Response(html, mimetype="text/html"), page=True)


@bp.get("/advisories/<reference>")
def show(reference: str) -> ResponseReturnValue:
    view = _find(reference)
    body = None
    if "html" in formats.FORMATS:
        rendered = formats.by_name("html").render(_ctx(), view)
        # the html rendition escapes what it renders: its body is trusted markup
        body = Markup(_body_of(rendered.body.decode("utf-8")))  # noqa: S704
    downloads_ = [
        (fmt, url_for(".download", reference=view.reference,
                      suffix=downloads.rendition_url_suffix(fmt)))
        for fmt in sorted(formats.FORMATS.values(), key=lambda f: f.name)
    ]  # fmt: skip
    html = render_template(
        "bulletins/public/show.html", view=view, body=body, language=_language(),
        downloads=downloads_, tlp_class=css_class,
    )  # fmt: skip
    return _cached(Response(html, mimetype="text/html"), page=True)


@bp.get("/advisories/<reference>.<suffix>")
def download(reference: str, suffix: str) -> ResponseReturnValue:
    reference, whole = downloads.split(reference, suffix)
    view = _find(reference)
    language = request.args.get("lang", _language())
    return _cached(downloads.rendition(view, whole, language if language in downloads.LANGUAGES
                                       else "fr"))  # fmt: skip


@bp.get("/advisories/feed.rss")
def feed_rss() -> ResponseReturnValue:
    channel, entries = _feed("rss")
    body = rss(channel, entries)
    return _cached(Response(body, content_type="application/rss+xml; charset=utf-8"))


@bp.get("/advisories/feed.atom")
def feed_atom() -> ResponseReturnValue:
    channel, entries = _feed("atom")
    body = atom(channel, entries, feed_id=channel.link)
    return _cached(Response(body, content_type="application/atom+xml; charset=utf-8"))


# ---------------------------------------------------------------- helpers
def _find(reference: str) -> BulletinView:
    view = find_public(get_session(), reference)
    if view is None or view.reference is None:
        raise NotFound("bulletin not found")
    return view


def _ctx() -> formats.RenderContext:
    settings = downloads.settings()
    return formats.RenderContext(
        session=get_session(), settings=settings, language=_language(),
        base_url=_base(), now=context().clock.now(),
    )  # fmt: skip


def _base() -> str:
    return downloads.settings().base_url or request.url_root.rstrip("/")


def _body_of(document: str) -> str:
    """The content of ``<body>`` of an HTML document (the whole text when it has none)."""
    lower = document.lower()
    start, end = lower.find("<body"), lower.rfind("</body>")
    if start < 0 or end < 0:
        return document
    return document[document.index(">", start) + 1 : end]


def _feed(kind: str) -> tuple[Channel, list[Entry]]:
    session, language = get_session(), _language()
    rows = list(
        session.scalars(
            select(Bulletin)
            .where(public())
            .order_by(Bulletin.revised_at.desc(), Bulletin.id.desc())
            .limit(FEED_SIZE)
        )
    )
    views = views_of(session, rows, staff=False)
    base, name = _base(), downloads.settings().cert_name
    link = base + url_for(".archive")
    entries = [
        Entry(
            guid=view.reference or "",
            title=f"{view.reference} — {view.text(language).title}",
            link=base + url_for(".show", reference=view.reference),
            summary=view.text(language).summary,
            published=view.published_at or view.revised_at or context().clock.now(),
            updated=view.revised_at or view.published_at or context().clock.now(),
            categories=(view.kind.value, view.risk.value),
        )  # fmt: skip
        for view in views
    ]
    channel = Channel(
        title=gettext("%(cert)s security bulletins", cert=name), link=link,
        self_link=base + url_for(".feed_rss" if kind == "rss" else ".feed_atom"),
        description=gettext("The public (TLP:CLEAR) bulletins of %(cert)s", cert=name),
        language=language,
        updated=max((e.updated for e in entries), default=context().clock.now()),
    )  # fmt: skip
    return channel, entries


def _cached(response: Response, *, page: bool = False) -> Response:
    """Public answers may be cached a few minutes; a page shown to someone signed in (their
    name in its header) only by their browser."""
    private = page and current_account() is not None
    response.headers["Cache-Control"] = "private, no-cache" if private else CACHE
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
