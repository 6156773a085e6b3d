"""What the REST API and the public archive share (web adapter): a bulletin's renditions served
from the formats registry (:mod:`bulletins.outputs.formats`), by URL suffix."""

from __future__ import annotations

from flask import Response, current_app, request

from bulletins.outputs import formats
from bulletins.outputs.view import BulletinView
from bulletins.settings import BulletinSettings
from core.errors import NotFound
from core.web import context, get_session

LANGUAGES = ("fr", "en", "ar")


def settings() -> BulletinSettings:
    found = current_app.extensions.get("bulletins")
    return found if isinstance(found, BulletinSettings) else BulletinSettings()


def split(reference: str, suffix: str) -> tuple[str, str]:
    """``/…/<reference>.<suffix>`` as Werkzeug cut it (``X.csaf`` + ``json``) → the reference and
    the whole suffix (``X``, ``.csaf.json``): references have no dot."""
    head, _, rest = f"{reference}.{suffix}".partition(".")
    return head, f".{rest}"


def rendition_url_suffix(fmt: formats.Format) -> str:
    """The ``suffix`` path argument of ``fmt`` (``.csaf.json`` → ``csaf.json``)."""
    return fmt.suffix.removeprefix(".")


def rendition(view: BulletinView, suffix: str, language: str) -> Response:
    """``view`` rendered by the format registered for ``suffix``; 404 for any other suffix."""
    fmt = formats.by_suffix(suffix)
    if fmt is None:
        raise NotFound(f"no rendition {suffix}")
    ctx = formats.RenderContext(
        session=get_session(), settings=settings(), language=language,
        base_url=settings().base_url or request.url_root.rstrip("/"), now=context().clock.now(),
    )  # fmt: skip
    rendered = fmt.render(ctx, view)
    response = Response(rendered.body, content_type=rendered.content_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{formats.file_name(view, fmt)}"'
    )
    return response
