"""Refanging: undo the defanging analysts apply to indicators before sharing them.

Pure module (no DB, no HTTP). One compiled alternation is applied in a single left-to-right pass,
so the cost is linear in the length of the text; every quantifier in it is bounded, so no input
makes it backtrack.

What is undone:

* bracketed separators, with ``[]``, ``()`` or ``{}`` in any combination and up to two spaces
  inside or around them: ``[.]``, ``(.)``, ``{.}``, ``[dot]``, ``(dot)`` → ``.``; ``[@]``,
  ``[at]``, ``(at)`` → ``@``; ``[:]`` → ``:``; ``[://]``, ``[//]``, ``[/]``;
* defanged schemes when a colon (or a bracketed one) follows: ``hxxp``, ``hXXps``, ``h**p``,
  ``h[tt]p``, ``hxtp`` → ``http``/``https``; ``fxp`` → ``ftp``;
* backslash escapes ``\\.`` (regex style) and ``\\/`` (JSON style);
* zero-width characters and soft hyphens are removed; full-width and ideographic full stops
  (``．``, ``。``, ``｡``), the full-width ``＠``, ``：`` and ``／`` become their ASCII forms.

Bare words are never touched: ``evil dot com`` or ``contact at ministere`` stay prose.
The result is meant for extraction, not for display (zero-width joiners are dropped).

``defang(type, value)`` is the way back for sharing: a canonical observable written so that no
mail client or chat links it, and that :func:`refang` (and extraction) reads back as the same value.
"""

from __future__ import annotations

import re

__all__ = ["defang", "refang", "refang_marked"]

_SP = "[ \t]{0,2}"
_OPEN = r"[\[({]"
_CLOSE = r"[\])}]"

_DEFANG = re.compile(
    "|".join(
        (
            r"(?P<invisible>[\u200b\u200c\u200d\u2060\ufeff\u00ad])",
            r"(?P<wide>[\uff0e\u3002\uff61\uff20\uff1a\uff0f])",
            rf"(?P<dot>{_SP}{_OPEN}{_SP}(?:\.|dot){_SP}{_CLOSE}{_SP})",
            rf"(?P<at>{_SP}{_OPEN}{_SP}(?:@|at){_SP}{_CLOSE}{_SP})",
            rf"{_OPEN}(?P<sep>:|://|//|/){_CLOSE}",
            r"(?P<escaped>\\[./])",
            r"(?<![\w])(?P<scheme>h(?:[x*][x*t]|t[x*]|\[tt\])p|fxp)(?P<secure>s?)(?=[\[({]?:)",
        )
    ),
    re.IGNORECASE,
)

# every alternative of _DEFANG contains one of these: text without any is returned as it is
_HINT = re.compile(
    r"[\[({\\\u200b\u200c\u200d\u2060\ufeff\u00ad\uff0e\u3002\uff61\uff20\uff1a\uff0f]"
    r"|h[x*]|ht[x*]|fxp",
    re.IGNORECASE,
)

_WIDE = {"\uff0e": ".", "\u3002": ".", "\uff61": ".", "\uff20": "@", "\uff1a": ":", "\uff0f": "/"}


def _replacement(match: re.Match[str]) -> tuple[str, bool]:
    """The text replacing ``match`` and whether it is evidence of deliberate defanging."""
    kind = match.lastgroup
    if kind == "invisible":
        return "", False
    if kind == "wide":
        return _WIDE[match.group()], False
    if kind == "dot":
        return ".", True
    if kind == "at":
        return "@", True
    if kind == "sep":
        return match.group("sep"), True
    if kind == "escaped":
        return match.group()[1], match.group()[1] == "."
    # the only other alternative is a scheme; ``secure`` is its last group
    base = "ftp" if match.group("scheme").lower() == "fxp" else "http"
    return base + match.group("secure").lower(), True


def refang_marked(text: str) -> tuple[str, list[int]]:
    """Refang ``text``; also return the offsets (in the result) of deliberate refangs.

    The offsets let extraction treat a defanged candidate as an indicator even where its
    undefanged spelling would look like prose or a file name (``update[.]zip``).
    """
    if _HINT.search(text) is None:
        return text, []
    parts: list[str] = []
    marks: list[int] = []
    last = 0
    length = 0
    for match in _DEFANG.finditer(text):
        kept = text[last : match.start()]
        parts.append(kept)
        length += len(kept)
        replacement, evidence = _replacement(match)
        if evidence:
            marks.append(length)
        parts.append(replacement)
        length += len(replacement)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), marks


def refang(text: str) -> str:
    """Undo common defanging (``hxxps[:]//evil[.]example``, ``user[at]evil(dot)example``)."""
    return refang_marked(text)[0]


_SCHEMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps"}


def defang(type: str, value: str) -> str:  # noqa: A002 - the observable's type
    """``value`` (canonical, of observable ``type``) defanged for sharing.

    IPv4: the last dot bracketed (``1.2.3[.]4``); IPv6: every colon (``2001[:]db8[:][:]1``);
    domain: every dot (``evil[.]example``); e-mail: ``user[@]evil[.]example``; URL: the scheme
    (``hxxps``, ``fxp``; others keep theirs and get ``[://]``) and the host's dots, the path
    left as written (``hxxps://evil[.]example/x.php``). Hashes and CVE identifiers unchanged.
    """
    if type == "ipv4":
        head, _, last = value.rpartition(".")
        return f"{head}[.]{last}" if head else value
    if type == "ipv6":
        return value.replace(":", "[:]")
    if type == "domain":
        return value.replace(".", "[.]")
    if type == "email":
        local, _, domain = value.rpartition("@")
        return f"{local}[@]{domain.replace('.', '[.]')}"
    if type == "url":
        return _defang_url(value)
    return value


def _defang_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value.replace(".", "[.]")
    authority_end = next((i for i, c in enumerate(rest) if c in "/?#"), len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # an IPv6 host: its colons
        close = hostport.find("]")
        host = hostport[: close + 1].replace(":", "[:]")
        hostport = host + hostport[close + 1 :]
    else:
        hostport = hostport.replace(".", "[.]")
    lowered = scheme.lower()
    written = _SCHEMES.get(lowered)
    if written is None:
        return f"{scheme}[://]{userinfo}{at}{hostport}{tail}"
    return f"{written}://{userinfo}{at}{hostport}{tail}"
