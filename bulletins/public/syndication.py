"""RSS 2.0 and Atom 1.0 documents of the public bulletins (Flask-free), built with
``xml.etree`` so that every text is escaped: a title with ``<``, ``&`` or Arabic stays
well-formed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Channel:
    title: str
    link: str  # the archive page
    self_link: str  # this feed
    description: str
    language: str
    updated: dt.datetime


@dataclass(frozen=True)
class Entry:
    guid: str  # the reference
    title: str
    link: str
    summary: str
    published: dt.datetime
    updated: dt.datetime
    categories: tuple[str, ...]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def rss(channel: Channel, entries: list[Entry]) -> bytes:
    """An RSS 2.0 document (with ``atom:link rel="self"``, as validators recommend)."""
    ET.register_namespace("atom", ATOM_NS)
    root = ET.Element("rss", {"version": "2.0"})
    chan = _sub(root, "channel")
    _sub(chan, "title", channel.title)
    _sub(chan, "link", channel.link)
    _sub(chan, "description", channel.description)
    _sub(chan, "language", channel.language)
    _sub(chan, "lastBuildDate", format_datetime(_utc(channel.updated), usegmt=True))
    _sub(chan, f"{{{ATOM_NS}}}link", href=channel.self_link, rel="self",
         type="application/rss+xml")  # fmt: skip
    for entry in entries:
        item = _sub(chan, "item")
        _sub(item, "title", entry.title)
        _sub(item, "link", entry.link)
        _sub(item, "guid", entry.guid, isPermaLink="false")
        _sub(item, "pubDate", format_datetime(_utc(entry.updated), usegmt=True))
        if entry.summary:
            _sub(item, "description", entry.summary)
        for category in entry.categories:
            _sub(item, "category", category)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def atom(channel: Channel, entries: list[Entry], *, feed_id: str) -> bytes:
    """An Atom 1.0 document (RFC 4287): id, title, updated and a link on the feed and on each
    entry."""
    ET.register_namespace("", ATOM_NS)

    def tag(name: str) -> str:
        return f"{{{ATOM_NS}}}{name}"

    root = ET.Element(tag("feed"), {"xml:lang": channel.language})
    _sub(root, tag("id"), feed_id)
    _sub(root, tag("title"), channel.title)
    _sub(root, tag("subtitle"), channel.description)
    _sub(root, tag("updated"), _utc(channel.updated).isoformat())
    _sub(root, tag("link"), href=channel.link, rel="alternate", type="text/html")
    _sub(root, tag("link"), href=channel.self_link, rel="self", type="application/atom+xml")
    author = _sub(root, tag("author"))
    _sub(author, tag("name"), channel.title)
    for entry in entries:
        item = _sub(root, tag("entry"))
        _sub(item, tag("id"), entry.link)
        _sub(item, tag("title"), entry.title)
        _sub(item, tag("link"), href=entry.link, rel="alternate", type="text/html")
        _sub(item, tag("published"), _utc(entry.published).isoformat())
        _sub(item, tag("updated"), _utc(entry.updated).isoformat())
        if entry.summary:
            _sub(item, tag("summary"), entry.summary, type="text")
        for category in entry.categories:
            _sub(item, tag("category"), term=category)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
