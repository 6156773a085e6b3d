"""Polling a MISP feed (use case, Flask-free): ``<url>/manifest.json`` and one
``<url>/<uuid>.json`` per event, as MISP instances and PyMISP's feed generator publish them.

Incremental by event timestamp: the feed's ``checkpoint`` is the Unix time of the last event
stored. Each poll reads the manifest, takes the events whose ``timestamp`` is after the
checkpoint, oldest first, and yields one :class:`~feeds.sources.pulling.Pulled` per event whose
``checkpoint`` is that event's timestamp — so a failure part-way resumes after the last event
stored, and a poll with nothing new fetches only the manifest. When several events share a
timestamp, the checkpoint moves to it only after the last of them (until then it stays one
second before), so none is skipped on resumption.

The feed's URL is the feed's directory (its ``manifest.json`` URL is accepted too). Manifest
entries whose key is not a UUID (it is used in a URL path) or whose timestamp is not a
Unix time are rejected (reported with the first page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from feeds.models import Feed
from feeds.rules.misp import parse_event
from feeds.rules.records import NotThatKind, Parsed, Rejection
from feeds.sources.fetch import FetchError, Http, credentials, expect_ok
from feeds.sources.pulling import Pulled

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def pull_misp_feed(feed: Feed, http: Http) -> Iterator[Pulled]:
    """The events of ``feed`` newer than its checkpoint, one page each (see the module)."""
    if not feed.url:
        raise FetchError(f"the feed {feed.name} has no URL")
    base = feed.url.rstrip("/").removesuffix("/manifest.json")
    headers = credentials(feed.username, feed.password_env)
    manifest_url = f"{base}/manifest.json"
    entries, rejections = read_manifest(expect_ok(http.get(manifest_url, headers)))
    since = _since(feed.checkpoint)
    fresh = sorted((ts, uuid) for uuid, ts in entries.items() if ts > since)
    if not fresh and rejections:
        parsed = Parsed("misp-manifest", rejections=rejections)
        yield Pulled(parsed, checkpoint=feed.checkpoint, document=manifest_url)
    for index, (timestamp, uuid) in enumerate(fresh):
        url = f"{base}/{uuid}.json"
        parsed = parse_event(expect_ok(http.get(url, headers)))
        if index == 0:
            parsed.rejections[:0] = rejections
        following = fresh[index + 1][0] if index + 1 < len(fresh) else None
        checkpoint = timestamp if following != timestamp else timestamp - 1
        yield Pulled(parsed, checkpoint=str(checkpoint), document=url)


def read_manifest(body: bytes) -> tuple[dict[str, int], list[Rejection]]:
    """``{event uuid: timestamp}`` of a feed's ``manifest.json``, and its bad entries."""
    try:
        manifest = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise NotThatKind("not a MISP feed: manifest.json is not JSON") from None
    except RecursionError:  # a hostile server's JSON nested past the parser's stack
        raise NotThatKind("not a MISP feed: manifest.json is nested too deeply") from None
    if not isinstance(manifest, dict):
        raise NotThatKind("not a MISP feed: manifest.json is not a JSON object")
    entries: dict[str, int] = {}
    rejections: list[Rejection] = []
    for key, entry in manifest.items():
        ref = f"manifest {key[:60]!r}"
        if not _UUID.fullmatch(key):
            rejections.append(Rejection(ref, "the key is not an event UUID"))
            continue
        raw = entry.get("timestamp") if isinstance(entry, dict) else None
        if isinstance(raw, bool) or not str(raw).isdigit():
            rejections.append(Rejection(ref, f"timestamp {str(raw)[:40]!r} is not a Unix time"))
            continue
        entries[key.lower()] = int(str(raw))
    return entries, rejections


def _since(checkpoint: str | None) -> int:
    return int(checkpoint) if checkpoint and checkpoint.isdigit() else 0
