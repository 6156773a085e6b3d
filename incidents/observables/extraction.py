"""Observables of incident reports: extraction from free text and canonical explicit values.

Pure module (no DB, no HTTP). ``extract(text)`` returns the observables of one text (a title, a
description, a text attachment) in order of first appearance, each (type, canonical value) once;
the caller records where it was found and the incident's TLP. ``canonicalise(type, value)`` is
the same canonical form for values given explicitly through the API, with an error naming the
problem. Canonical forms live in :mod:`feeds.rules.values`, refanging in
:mod:`feeds.rules.refang`.

Choices (each one pinned by tests):

* URL: needs a scheme (``http(s)``, ``ftp(s)``, ``sftp``, ``ws(s)``); ``evil.example/x`` without
  one yields the domain only. The URL is followed by its host as a domain or IP address (hosts
  under an unknown TLD such as ``.local`` are not emitted). Trailing prose punctuation is cut;
  parentheses and brackets that balance inside the URL are kept. Inside a URL no other domain,
  IP or e-mail is taken (query strings are not mined), but hashes and CVEs are.
* E-mail: the address, wholly lower-cased, then its domain (as a URL gives its host).
* Domain: ends in a delegated TLD (IANA list in ``data/tlds.json``), ``.onion`` or ``.example``.
  Without defanging, a candidate is not a domain when: a trailing Capitalised label starts the
  next sentence (``rapport.Le`` → nothing, ``evil.example.Le`` → ``evil.example``); its TLD is a
  common file extension (``zip mov py sh md so pub one cab pm``); a file word precedes it
  (``fichier``, ``pièce jointe``, ``attachment``, ``script``…) or a size follows it
  (``(2,3 Mo)``); it is a path component (``bin/x.com``, ``C:\\x.com``), a call
  (``subprocess.run(``), a reversed package name (``com.whatsapp.plus``), a code object
  (``self.data``), a product name (``ASP.NET``); or it has non-ASCII letters (IDN names are
  taken from URLs, e-mails or defanged text only). ``*.evil.example`` yields ``evil.example``.
* IPv4: four decimal octets, none above 255 nor with a leading zero (octal or decimal?); not
  part of a longer dotted run (``1.2.3.4.5``, ``v1.2.3.4``), a CIDR block, a netmask, nor
  preceded by a version or section word (``version``, ``build``, ``§``, ``#``, ``art.``…) or
  followed by a currency (``MAD``, ``€``…). Private and reserved addresses are kept.
* IPv6: validated by :mod:`ipaddress`, RFC 5952 form; times (``10:30:00``), MAC addresses and
  fingerprints (uncompressed groups of at most two digits) are not addresses.
* Hashes: a maximal run of exactly 32, 40 or 64 hex digits, with at least one digit and one
  letter, lower-cased; a SHA-256 never yields an MD5 from its substrings.
* CVE: ``CVE-YYYY-NNNN…`` in any case, typographic dashes accepted, upper-cased.
* Defanged text (``[.]``, ``[at]``, ``hxxp``…) is evidence: it overrides every heuristic above.

Cost: one refang pass plus one finditer pass per type; every pattern is anchored by a
lookbehind so each token is tried from its start only, and per-candidate work is bounded, so
extraction is linear in the text size (about a second per megabyte, adversarial or not).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from feeds.rules import values
from feeds.rules.observables import (
    HASH_BY_LENGTH,
    Observable,
    ObservableType,
    canonicalise,
)
from feeds.rules.refang import refang, refang_marked
from feeds.rules.values import InvalidObservable
from incidents.observables import context

__all__ = [
    "InvalidObservable",
    "Observable",
    "ObservableType",
    "canonicalise",
    "extract",
    "refang",
]


def extract(text: str) -> list[Observable]:
    """Observables of ``text`` in order of first appearance, each (type, value) once."""
    scan = _Scan(text)
    for step in (_urls, _emails, _ipv6s, _ipv4s, _domains, _hashes, _cves):
        step(scan)
    seen: set[Observable] = set()
    result: list[Observable] = []
    for _, _, observable in sorted(scan.found, key=lambda hit: (hit[0], hit[1])):
        if observable not in seen:
            seen.add(observable)
            result.append(observable)
    return result


class _Scan:
    """One extraction: the refanged text, its refang marks, the hits and the claimed spans."""

    def __init__(self, text: str) -> None:
        self.text, self._marks = refang_marked(text)
        self.found: list[tuple[int, int, Observable]] = []
        self._claims: list[tuple[int, int]] = []
        self._claim_starts: list[int] = []

    def add(self, start: int, kind: ObservableType, value: str) -> None:
        self.found.append((start, len(self.found), Observable(kind, value)))

    def defanged(self, start: int, end: int) -> bool:
        index = bisect_left(self._marks, start)
        return index < len(self._marks) and self._marks[index] < end

    def claimed(self, start: int, end: int) -> bool:
        """Whether [start, end) overlaps a URL, e-mail or IPv6 span already taken."""
        index = bisect_left(self._claim_starts, end)
        return index > 0 and self._claims[index - 1][1] > start

    def claim(self, spans: list[tuple[int, int]]) -> None:
        """Add the non-overlapping, ordered spans of one type (sorting two sorted runs)."""
        self._claims = sorted(self._claims + spans)
        self._claim_starts = [start for start, _ in self._claims]


# --- URLs and e-mail addresses ------------------------------------------------------------

_URL_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:https?|ftps?|sftp|wss?)://[^\s<>\"'`{}|\\^«»“”‘’]+", re.IGNORECASE
)
_URL_TRAILING = frozenset(".,;:!?…*")
_URL_PAIRS = {")": "(", "]": "[", "}": "{"}
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[\w-]+(?:\.[\w-]+)+")


def _trim_url(raw: str) -> str:
    """Cut prose punctuation and unbalanced closing brackets off the end of a URL."""
    balance = {
        closer: raw.count(closer) - raw.count(opener) for closer, opener in _URL_PAIRS.items()
    }
    end = len(raw)
    while end:
        last = raw[end - 1]
        if last in _URL_TRAILING:
            end -= 1
        elif balance.get(last, 0) > 0:
            balance[last] -= 1
            end -= 1
        else:
            break
    return raw[:end]


def _host_type(host: str) -> ObservableType | None:
    if ":" in host:
        return ObservableType.IPV6
    if host.replace(".", "").isdigit():
        return ObservableType.IPV4
    return ObservableType.DOMAIN if values.is_known_tld(host.rpartition(".")[2]) else None


def _urls(scan: _Scan) -> None:
    spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(scan.text):
        raw = _trim_url(match.group())
        try:
            canonical, host = values.url(raw)
        except InvalidObservable:
            continue
        start = match.start()
        spans.append((start, start + len(raw)))
        scan.add(start, ObservableType.URL, canonical)
        host_type = _host_type(host)
        if host_type is not None:
            scan.add(start, host_type, host)
    scan.claim(spans)


def _email_value(written: str) -> tuple[str, str] | None:
    """(written, canonical) of an address; a Capitalised label breaking it starts a sentence."""
    head, _, last = written.rpartition(".")
    candidates = [written]
    if context.capitalised(last) and "." in head.partition("@")[2]:
        candidates.append(head)  # x@evil.example.Merci
    for candidate in candidates:
        try:
            return candidate, values.email(candidate, private=False)
        except InvalidObservable:
            continue
    return None


def _emails(scan: _Scan) -> None:
    spans: list[tuple[int, int]] = []
    for match in _EMAIL_RE.finditer(scan.text):
        written = match.group().lstrip(".")
        start = match.end() - len(written)
        if scan.claimed(start, match.end()):
            continue
        email = _email_value(written)
        if email is None:
            continue
        written, value = email
        spans.append((start, start + len(written)))
        scan.add(start, ObservableType.EMAIL, value)
        scan.add(start, ObservableType.DOMAIN, value.rpartition("@")[2])
    scan.claim(spans)


# --- IP addresses -------------------------------------------------------------------------

_IPV6_RE = re.compile(r"(?<![\w.])[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*")
_IPV4_RE = re.compile(  # not followed by more labels, unless they start a sentence
    r"(?<![\w.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?!\w|\.(?![A-ZÀ-Þ][a-zß-ÿ])[\w-])"
)


def _ipv6s(scan: _Scan) -> None:
    spans: list[tuple[int, int]] = []
    text = scan.text
    for match in _IPV6_RE.finditer(text):
        start, end = match.span()
        following = text[end : end + 1]
        if match.group().count(":") < 2 or following.isalnum() or following == "_":
            continue
        value = context.ipv6_value(match.group())
        if value is None or scan.claimed(start, end):
            continue
        spans.append((start, end))
        scan.add(start, ObservableType.IPV6, value)
    scan.claim(spans)


def _ipv4s(scan: _Scan) -> None:
    text = scan.text
    for match in _IPV4_RE.finditer(text):
        start, end = match.span()
        if scan.claimed(start, end):
            continue
        try:
            value = values.ipv4(match.group())
        except InvalidObservable:
            continue
        if scan.defanged(start, end) or not context.not_a_host(text, start, end, value):
            scan.add(start, ObservableType.IPV4, value)


# --- Domains ------------------------------------------------------------------------------

_DOMAIN_RE = re.compile(r"(?:(?<=\*\.)|(?<![\w.@%+-]))[\w-]+(?:\.[\w-]+)+")  # *.evil.example


def _domain_candidate(scan: _Scan, start: int, written: str) -> tuple[str, str] | None:
    """(written, host) of a candidate under a known TLD, a sentence-starting label cut off."""
    head, _, last = written.rpartition(".")
    kept = scan.defanged(start, start + len(written)) and values.is_known_tld(last.lower())
    if context.capitalised(last) and not kept:
        written, last = head, head.rpartition(".")[2]
        if "." not in written:
            return None
    if last.isascii() and not values.is_known_tld(last.lower()):
        return None
    try:
        host = values.hostname(written)
    except InvalidObservable:
        return None
    if not values.is_known_tld(host.rpartition(".")[2]):
        return None
    return written, host


def _domains(scan: _Scan) -> None:
    text = scan.text
    for match in _DOMAIN_RE.finditer(text):
        written = match.group().lstrip("-")
        if written.endswith("_"):  # Markdown emphasis: _evil.example_, __evil.example__
            written = written.strip("_")
        start = match.end() - len(written)
        if text.startswith("@", match.end()) or scan.claimed(start, match.end()):
            continue
        candidate = _domain_candidate(scan, start, written)
        if candidate is None:
            continue
        written, host = candidate
        end = start + len(written)
        if scan.defanged(start, end) or not context.not_a_domain(text, start, end, written, host):
            scan.add(start, ObservableType.DOMAIN, host)


# --- Hashes and CVE identifiers -----------------------------------------------------------

_HASH_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])")
_CVE_RE = re.compile(
    r"(?<![A-Za-z0-9])CVE[- \u2010-\u2015]?([0-9]{4})[-\u2010-\u2015]([0-9]{4,7})(?![0-9A-Za-z])",
    re.IGNORECASE,
)


def _hashes(scan: _Scan) -> None:
    for match in _HASH_RE.finditer(scan.text):
        token = match.group()
        kind = HASH_BY_LENGTH.get(len(token))
        if kind is None or token.isdigit() or not any(char.isdigit() for char in token):
            continue
        scan.add(match.start(), kind, token.lower())


def _cves(scan: _Scan) -> None:
    for match in _CVE_RE.finditer(scan.text):
        try:
            value = values.cve(f"CVE-{match.group(1)}-{match.group(2)}")
        except InvalidObservable:
            continue
        scan.add(match.start(), ObservableType.CVE, value)


def canonicalise_observable(kind: str, value: str) -> Observable:
    """An explicit observable in canonical form; ``ValueError`` naming the problem."""
    kind = kind.strip().lower()
    value = canonicalise(kind, value)  # rejects unknown types too
    return Observable(ObservableType(kind), value)
