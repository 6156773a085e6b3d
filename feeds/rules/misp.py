"""A MISP event (JSON, as MISP feeds and PyMISP write it) into parsed records (pure module).

Every attribute of the event, and of its objects (a ``file`` object's ``sha256``…), is one
indicator keyed by its ``uuid`` (``source_ref``):

* ``to_ids`` → ``detect`` (an attribute kept for context only never raises a match);
* ``deleted`` (the attribute's, or its object's) → revoked;
* ``timestamp`` (Unix time, a string in MISP's JSON) → ``modified``: a newer one wins;
* ``first_seen`` / ``last_seen`` (the attribute's, else its object's) kept;
* ``valid_until``: MISP's decay models lower an attribute's score as it ages; Vigie applies a
  fixed lifetime per value type (:data:`LIFETIMES`) from ``last_seen``, else ``timestamp``;
* TLP, labels and related objects from the event's, object's and attribute's tags and galaxies
  (:mod:`feeds.rules.misp_tags`: an attribute's TLP tag overrides its event's);
* the event's ``info`` names the indicator, the attribute's ``comment`` describes it.

Attribute types → observable types (:data:`SINGLE`, :data:`COMPOSITE`); other types (``text``,
``filename``, ``AS``…) are counted ``skipped``; a value that does not fit its type is a
rejection ``attribute <uuid>`` saying why. A document that is not a MISP event raises
:class:`~feeds.rules.records.NotThatKind`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import orjson

from feeds.rules.misp_tags import Context, read_context
from feeds.rules.observables import ObservableType as T
from feeds.rules.quick import quick_value
from feeds.rules.records import IndexValue, IndicatorRecord, NotThatKind, Parsed, Rejection
from feeds.rules.values import InvalidObservable

IP = "ip"  # ipv4 or ipv6, by the value's shape

SINGLE: dict[str, str] = {
    "ip-src": IP,
    "ip-dst": IP,
    "domain": T.DOMAIN,
    "hostname": T.DOMAIN,
    "url": T.URL,
    "uri": T.URL,  # only when absolute (a bare path is skipped)
    "md5": T.MD5,
    "sha1": T.SHA1,
    "sha256": T.SHA256,
    "email": T.EMAIL,
    "email-src": T.EMAIL,
    "email-dst": T.EMAIL,
    "email-reply-to": T.EMAIL,
    "vulnerability": T.CVE,
}
# "left|right" types: the observable type of each part (None: the part is not kept)
COMPOSITE: dict[str, tuple[str | None, str | None]] = {
    "filename|md5": (None, T.MD5),
    "filename|sha1": (None, T.SHA1),
    "filename|sha256": (None, T.SHA256),
    "ip-src|port": (IP, None),
    "ip-dst|port": (IP, None),
    "hostname|port": (T.DOMAIN, None),
    "domain|ip": (T.DOMAIN, IP),
}

DAY = dt.timedelta(days=1)
# Decay: how long an attribute stays live after its last_seen (else its timestamp), by the
# observable type of its (first) value; None: never expires (a hash names a file for ever).
LIFETIMES: dict[str, dt.timedelta | None] = {
    T.IPV4: 30 * DAY,
    T.IPV6: 30 * DAY,
    T.URL: 90 * DAY,
    T.DOMAIN: 180 * DAY,
    T.EMAIL: 180 * DAY,
    T.MD5: None,
    T.SHA1: None,
    T.SHA256: None,
    T.CVE: None,
}
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_OWN_CONTEXT = ("Tag", "AttributeTag", "Galaxy")
_TRUE = frozenset({True, "1", "true", "True"})  # True == 1


def parse_event(data: bytes | Mapping[str, Any]) -> Parsed:
    """The indicators of a MISP event: ``{"Event": {...}}`` or the bare event (also MISP's REST
    search export ``{"response": [{"Event": {...}}, ...]}``: every event's attributes)."""
    document = _load(data) if isinstance(data, bytes | bytearray) else data
    parsed = Parsed("misp-event")
    for event in _events(document):
        _read_event(parsed, event)
    return parsed


def _read_event(parsed: Parsed, event: Mapping[str, Any]) -> None:
    name = event.get("info") if isinstance(event.get("info"), str) else ""
    attributes = event.get("Attribute") or []
    objects = event.get("Object") or []
    if not isinstance(attributes, list) or not isinstance(objects, list):
        raise NotThatKind("not a MISP event: its Attribute and Object must be lists")
    default_time = _epoch_or_none(event.get("timestamp"))
    scope = _Scope(parsed, read_context(event), str(name), default_time, None)
    for position, attribute in enumerate(attributes, 1):
        _attribute(scope, attribute, f"attribute #{position}")
    for position, obj in enumerate(objects, 1):
        _object(scope, obj, position)


def _load(data: bytes | bytearray) -> object:
    try:
        return orjson.loads(bytes(data).removeprefix(codecs.BOM_UTF8))
    except orjson.JSONDecodeError as exc:
        raise NotThatKind(f"not a MISP event: the document is not JSON ({exc})") from None


def _events(document: object) -> list[Mapping[str, Any]]:
    response = document.get("response") if isinstance(document, Mapping) else None
    if isinstance(response, list):
        return [_event(item) for item in response]
    return [_event(document)]


def _event(document: object) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise NotThatKind("not a MISP event: expected a JSON object")
    if "Event" in document:
        event = document["Event"]
        if not isinstance(event, Mapping):
            raise NotThatKind("not a MISP event: its Event is not an object")
        return event
    if "Attribute" in document or "Object" in document or "info" in document:
        return document
    if document and all(isinstance(v, Mapping) and "timestamp" in v for v in document.values()):
        raise NotThatKind("a MISP feed manifest, not an event: add the feed's URL as a misp-feed")
    if document.get("type") == "bundle":
        raise NotThatKind("a STIX bundle, not a MISP event")
    raise NotThatKind("not a MISP event: no Event, Attribute, Object or info")


class _Scope:
    """Where an attribute sits: its event (or object) context, name and default times."""

    def __init__(
        self,
        parsed: Parsed,
        context: Context,
        name: str,
        default_time: dt.datetime | None,
        obj: Mapping[str, Any] | None,
    ) -> None:
        self.parsed, self.context, self.name = parsed, context, name
        self.default_time, self.obj = default_time, obj


def _object(scope: _Scope, obj: object, position: int) -> None:
    if not isinstance(obj, Mapping):
        scope.parsed.rejections.append(Rejection(f"object #{position}", "not a JSON object"))
        return
    attributes = obj.get("Attribute") or []
    ref = f"object {str(obj.get('uuid') or '#' + str(position))[:60]}"
    if not isinstance(attributes, list):
        scope.parsed.rejections.append(Rejection(ref, "its Attribute is not a list"))
        return
    inner = _Scope(
        scope.parsed,
        read_context(obj).under(scope.context),
        scope.name,
        _epoch_or_none(obj.get("timestamp")) or scope.default_time,
        obj,
    )
    for index, attribute in enumerate(attributes, 1):
        _attribute(inner, attribute, f"{ref} attribute #{index}")


def _attribute(scope: _Scope, attribute: object, where: str) -> None:
    parsed = scope.parsed
    if not isinstance(attribute, Mapping):
        parsed.rejections.append(Rejection(where, "not a JSON object"))
        return
    ref = where
    try:
        ref = f"attribute {_uuid(attribute.get('uuid'))}"
        values = _values(attribute.get("type"), attribute.get("value"))
        if values is None:
            parsed.skipped += 1
            return
        record = _record(scope, attribute, ref.removeprefix("attribute "), values)
    except InvalidObservable as exc:
        parsed.rejections.append(Rejection(ref, str(exc)))
        return
    parsed.indicators.append(record)


def _record(
    scope: _Scope, attribute: Mapping[str, Any], uuid: str, values: tuple[IndexValue, ...]
) -> IndicatorRecord:
    context = scope.context
    if any(attribute.get(key) for key in _OWN_CONTEXT):
        context = read_context(attribute).under(context)
    obj = scope.obj or {}
    modified = _epoch(attribute.get("timestamp")) or scope.default_time
    first_seen = _seen(attribute, obj, "first_seen")
    last_seen = _seen(attribute, obj, "last_seen")
    lifetime = LIFETIMES.get(values[0].kind)
    base = last_seen or modified
    comment = attribute.get("comment")
    return IndicatorRecord(
        source_ref=uuid,
        values=values,
        modified=modified,
        name=scope.name,
        description=comment if isinstance(comment, str) else "",
        tlp=context.tlp,
        labels=tuple(context.labels),
        related=tuple(context.related),
        valid_until=base + lifetime if base is not None and lifetime is not None else None,
        revoked=_flag(attribute.get("deleted"), False) or _flag(obj.get("deleted"), False),
        detect=_flag(attribute.get("to_ids"), True),
        first_seen=first_seen,
        last_seen=last_seen,
    )


def _uuid(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise InvalidObservable("no uuid")
    if not _UUID.fullmatch(raw):
        raise InvalidObservable(f"uuid {raw[:60]!r} is not a UUID")
    return raw.lower()


def _values(kind: object, raw: object) -> tuple[IndexValue, ...] | None:
    """The index values of a MISP ``type``/``value`` (``None`` for a type not kept)."""
    if not isinstance(kind, str):
        raise InvalidObservable("no type")
    if kind not in SINGLE and kind not in COMPOSITE:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidObservable(f"{kind}: no value")
    text = raw.strip()
    if kind == "uri" and "://" not in text:
        return None  # a path, not a URL
    if kind in SINGLE:
        return (_value(kind, SINGLE[kind], text),)
    left, sep, right = text.rpartition("|") if kind.endswith("port") else text.partition("|")
    if not sep:
        raise InvalidObservable(f"{kind}: {text[:200]!r} has no '|' between its two parts")
    kept = [(k, part) for k, part in zip(COMPOSITE[kind], (left, right), strict=True) if k]
    return tuple(_value(kind, k, part) for k, part in kept)


def _value(misp_type: str, kind: str, raw: str) -> IndexValue:
    if kind == IP:
        kind = T.IPV6 if ":" in raw else T.IPV4
    try:
        return quick_value(kind, raw)
    except InvalidObservable as exc:
        raise InvalidObservable(f"{misp_type} {raw[:200]!r}: {exc}") from None


def _epoch(raw: object) -> dt.datetime | None:
    if isinstance(raw, bool) or raw in (None, ""):
        return None
    try:
        seconds = int(raw)  # type: ignore[call-overload]
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidObservable(f"timestamp {str(raw)[:40]!r} is not a Unix time") from None


def _epoch_or_none(raw: object) -> dt.datetime | None:
    """An event's or object's time: only a default for its attributes, so never an error."""
    try:
        return _epoch(raw)
    except InvalidObservable:
        return None


def _seen(attribute: Mapping[str, Any], obj: Mapping[str, Any], key: str) -> dt.datetime | None:
    raw = attribute.get(key) or obj.get(key)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise InvalidObservable(f"{key} {str(raw)[:40]!r} is not a date and time")
    try:
        moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidObservable(f"{key} {raw[:40]!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _flag(raw: object, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    return isinstance(raw, bool | int | str) and raw in _TRUE
