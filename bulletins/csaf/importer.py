"""Importing a vendor's CSAF 2.0 advisory as a bulletin draft (Flask-free): read from a file, an
upload or an http(s) URL, checked (JSON, ``csaf_version`` 2.0, the official schema shipped in
``bulletins/data/csaf``, the §6.1 mandatory tests), mapped (:mod:`bulletins.csaf.mapping`) and
written through :func:`bulletins.authoring.services.create_draft` (source ``csaf``, the origin and
tracking id in ``source_ref``). A refused document is a :class:`CsafRejected` listing every
problem; nothing is written.

URLs are fetched with the feeds slice's fetcher (:mod:`feeds.sources.fetch`): http(s) only,
timeouts, a size limit, no private or loopback address unless ``CERT_FEEDS_ALLOW_PRIVATE``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bulletins.authoring.services import create_draft
from bulletins.csaf import checks, mapping
from bulletins.csaf.schema import schema_problems
from bulletins.models import Bulletin, BulletinSource
from core.clock import Clock
from core.errors import ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from feeds.settings import FeedSettings
from feeds.sources.fetch import FetchError, Http, RequestsHttp, expect_ok

MAX_BYTES = 16 * 1024 * 1024  # a CSAF advisory at most (Red Hat's largest are a few MB)
SHOWN = 20  # problems listed in the error


class CsafRejected(ValidationFailed):
    """The document is not an importable CSAF 2.0 advisory: ``problems`` says why."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        listed = self.problems[:SHOWN]
        more = len(self.problems) - len(listed)
        details = "; ".join(listed) + (f"; … {more} more" if more > 0 else "")
        super().__init__(message, fields={"document": details or message})


def read_path(path: Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CsafRejected(
                N_(
                    "%(name)s is %(size)s bytes, over the %(limit)s-byte limit",
                    name=path.name,
                    size=size,
                    limit=max_bytes,
                )
            )
        return path.read_bytes()
    except OSError as exc:
        raise CsafRejected(
            N_("cannot read %(path)s: %(reason)s", path=str(path), reason=exc.strerror or str(exc))
        ) from None


def fetch(url: str, settings: FeedSettings, *, http: Http | None = None) -> bytes:
    limited = dataclasses.replace(settings, max_bytes=min(settings.max_bytes, MAX_BYTES))
    try:
        return expect_ok((http or RequestsHttp(limited)).get(url))
    except FetchError as exc:
        raise CsafRejected(N_("cannot fetch the advisory: %(reason)s", reason=str(exc))) from None


def parse(raw: bytes, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The document in ``raw`` once it passed every check; :class:`CsafRejected` otherwise."""
    if len(raw) > max_bytes:
        raise CsafRejected(N_("the document is over the %(limit)s-byte limit", limit=max_bytes))
    if b"\x00" in raw:
        raise CsafRejected(N_("the document contains NUL bytes: it is not a JSON text"))
    if b"\\u0000" in raw:  # a NUL character in a string: no database stores it
        raise CsafRejected(N_("the document contains NUL characters (\\u0000)"))
    try:
        return _checked(raw)
    except RecursionError:
        raise CsafRejected(N_("the document is nested too deeply")) from None


def _checked(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CsafRejected(N_("the document is not UTF-8 text")) from None
    except json.JSONDecodeError as exc:
        raise CsafRejected(
            N_(
                "the document is not JSON: %(reason)s (line %(line)s, column %(column)s)",
                reason=exc.msg,
                line=exc.lineno,
                column=exc.colno,
            )
        ) from None
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise CsafRejected(N_("the document holds invalid Unicode (a lone surrogate)")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("document"), dict):
        raise CsafRejected(N_("the document is not a CSAF document (no /document object)"))
    version = doc["document"].get("csaf_version")
    if version != "2.0":
        raise CsafRejected(
            N_("csaf_version is %(version)s: only CSAF 2.0 is imported", version=repr(version))
        )
    problems = [f"{path}: {message}" for path, message in schema_problems(doc)]
    if problems:
        raise CsafRejected(N_("the document breaks the CSAF 2.0 schema"), problems)
    failed = [f"{p.test} {p.path}: {p.message}" for p in checks.problems(doc)]
    if failed:
        raise CsafRejected(N_("the document fails the CSAF 2.0 mandatory tests (§6.1)"), failed)
    return doc


def import_advisory(
    session: Session,
    actor: Actor,
    raw: bytes,
    *,
    origin: str,
    published: bool,
    clock: Clock,
) -> Bulletin:
    """A draft advisory from the CSAF document ``raw``; ``origin`` is its URL or file name,
    ``published`` whether it came from a provider's URL (the TLP default, see mapping)."""
    doc = parse(raw)
    try:
        data = mapping.draft(doc, published=published)
    except ValidationError as exc:  # a value the draft cannot hold, although CSAF allows it
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CsafRejected(N_("the advisory cannot become a draft"), problems) from None
    bulletin = create_draft(session, actor, data, clock=clock, source=BulletinSource.CSAF)
    tracking = str(doc["document"]["tracking"].get("id", ""))
    bulletin.source_ref = f"{origin} ({tracking})"[:500]
    session.flush()
    return bulletin
