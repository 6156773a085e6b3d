"""Reading a TAXII 2.1 collection page by page (use case, Flask-free), over
:class:`feeds.sources.fetch.Http` (the checkpoint needs the response headers, which
taxii2-client drops).

* The feed's URL is the server's discovery URL (``…/taxii2/``: its ``default`` API root, else the
  first) or an API root; the root must list TAXII 2.1 among its ``versions``.
* ``Accept: application/taxii+json;version=2.1`` on every request, with the feed's credentials
  (:func:`feeds.sources.fetch.credentials`: the secret is read from the named variable) — to
  the feed URL's host only: an API root elsewhere is asked without them.
* The collection (by id) must exist and be readable; objects are asked with
  ``added_after=<checkpoint>`` and the pages followed with ``next`` and the same filters (a
  server that says ``more`` without ``next`` is asked again from the page's checkpoint).
* Each page is one :class:`Pulled` whose checkpoint is the page's ``X-TAXII-Date-Added-Last``
  (without the header: the last ``date_added`` of the collection's manifest for as many objects
  from the previous checkpoint), so that a failure or a truncated page resumes from the last
  stored page and never re-imports everything.
* 401, 403, 404 and 406 are :class:`FetchError` saying what to check; an answer that is not
  TAXII JSON is :class:`NotThatKind`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from feeds.models import Feed
from feeds.rules.records import NotThatKind, Parsed
from feeds.sources.fetch import FetchError, Http, Response, credentials
from feeds.sources.pulling import Pulled

MEDIA_TYPE = "application/taxii+json;version=2.1"
PAGE_LIMIT = 1000  # asked on every page (servers cap it; medallion 3.0.0 fails on next without it)
VERSION = "application/taxii+json;version=2.1"
ParseObjects = Callable[[Sequence[Mapping[str, Any]]], Parsed]
STATUS = {
    401: "the TAXII server wants credentials or refused them (HTTP 401): check the feed's "
    "username and the variable named by password_env",
    403: "the TAXII server does not let these credentials read this (HTTP 403)",
    404: "not found on the TAXII server (HTTP 404): check the URL and the collection id",
    406: "the server does not answer TAXII 2.1 (HTTP 406 Not Acceptable)",
}


def pull_taxii(feed: Feed, http: Http, *, parse: ParseObjects) -> Iterator[Pulled]:
    """The collection's objects added after ``feed.checkpoint``, one :class:`Pulled` per page."""
    if not feed.url or not feed.collection:
        raise FetchError("a TAXII feed needs a URL and a collection id")
    secret = credentials(feed.username, feed.password_env)
    get = functools.partial(_get_json, http, secret=secret, host=urlsplit(feed.url).netloc)
    root = _api_root(get, feed.url)
    collection_url = urljoin(root, f"collections/{quote(feed.collection, safe='')}/")
    collection, _ = get(collection_url)
    if collection.get("can_read") is False:
        raise FetchError(f"the collection {feed.collection} cannot be read (can_read is false)")
    yield from _pages(get, collection_url, feed.checkpoint, parse)


def _pages(
    get: Callable[[str], tuple[dict[str, Any], Response]],
    collection_url: str,
    checkpoint: str | None,
    parse: ParseObjects,
) -> Iterator[Pulled]:
    objects_url = collection_url + "objects/"
    since = checkpoint  # the filter, the same on every page of one pagination
    token: str | None = None
    while True:
        query = {"limit": str(PAGE_LIMIT), **({"added_after": since} if since else {})}
        if token:
            query["next"] = token
        url = objects_url + "?" + urlencode(query)
        envelope, response = get(url)
        objects = _objects(envelope, url)
        before = checkpoint
        checkpoint = response.headers.get("x-taxii-date-added-last") or (
            _manifest_last(get, collection_url, before, len(objects)) if objects else before
        )
        yield Pulled(parse(objects), checkpoint=checkpoint, document=url)
        if envelope.get("more") is not True:
            return
        token = envelope.get("next") if isinstance(envelope.get("next"), str) else None
        if not token:  # more without next: ask again from the page's checkpoint
            if checkpoint == before:
                raise FetchError(f"{url}: the server says more but gives no next nor a new date")
            since = checkpoint


def _objects(envelope: dict[str, Any], url: str) -> list[Mapping[str, Any]]:
    objects = envelope.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise NotThatKind(f"{url}: not a TAXII envelope (objects is not a list of objects)")
    return objects


def _manifest_last(
    get: Callable[[str], tuple[dict[str, Any], Response]],
    collection_url: str,
    checkpoint: str | None,
    count: int,
) -> str | None:
    """The last ``date_added`` of the manifest's first ``count`` entries after ``checkpoint``
    (the page just read: both lists are in the order objects were added)."""
    query = {"limit": str(count), **({"added_after": checkpoint} if checkpoint else {})}
    manifest, _ = get(collection_url + "manifest/?" + urlencode(query))
    entries = manifest.get("objects", [])
    dates = [e["date_added"] for e in entries if isinstance(e, dict) and "date_added" in e]
    return max(dates, default=checkpoint)


def _api_root(get: Callable[[str], tuple[dict[str, Any], Response]], url: str) -> str:
    """The API root's URL (ending in ``/``) from a discovery URL or an API root's."""
    url = url if url.endswith("/") else url + "/"
    document, _ = get(url)
    if "api_roots" in document:
        roots = [r for r in document.get("api_roots") or [] if isinstance(r, str)]
        chosen = document.get("default") if isinstance(document.get("default"), str) else None
        if not chosen and not roots:
            raise FetchError(f"{url}: the TAXII server lists no API root")
        root = urljoin(url, chosen or roots[0])
        root = root if root.endswith("/") else root + "/"
        return _check_root(root, get(root)[0])
    return _check_root(url, document)


def _check_root(url: str, document: dict[str, Any]) -> str:
    versions = document.get("versions")
    if not isinstance(versions, list):
        raise NotThatKind(f"{url}: neither a TAXII discovery document nor an API root")
    if not any(str(v).replace(" ", "") == VERSION for v in versions):
        raise FetchError(f"{url}: the API root does not speak TAXII 2.1 (versions: {versions})")
    return url


def _get_json(
    http: Http, url: str, *, secret: Mapping[str, str], host: str
) -> tuple[dict[str, Any], Response]:
    """GET ``url`` as TAXII 2.1; the credentials go only to the feed's own host (a discovery
    document naming an API root elsewhere never receives them)."""
    headers = {"Accept": MEDIA_TYPE, **(secret if urlsplit(url).netloc == host else {})}
    response = http.get(url, headers)
    if response.status in STATUS:
        raise FetchError(f"{STATUS[response.status]}: {url}")
    if response.status != 200:
        raise FetchError(f"{url} answered HTTP {response.status}")
    try:
        document = json.loads(response.body)
    except ValueError:
        raise NotThatKind(f"{url}: not a TAXII answer (not JSON, or cut short)") from None
    except RecursionError:  # a hostile server's JSON nested past the parser's stack
        raise NotThatKind(f"{url}: not a TAXII answer (JSON nested too deeply)") from None
    if not isinstance(document, dict):
        raise NotThatKind(f"{url}: not a TAXII answer (not a JSON object)")
    return document, response
