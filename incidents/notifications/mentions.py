"""``@name`` mentions in a comment (pure rules, Flask-free).

A comment mentions a CERT user with ``@`` followed by the local part of their e-mail address
(``@n.alaoui`` for ``n.alaoui@cert.gov.ma``) or by their name written without spaces, with
``.``, ``_`` or ``-`` between its words, or run together (``@Nadia.Alaoui``, ``@nadia_alaoui``,
``@NadiaAlaoui``); a one-word name is itself. Case and accents are ignored. An ``@`` inside a
word (an e-mail address in the text) is not a mention.
"""

from __future__ import annotations

import re
import unicodedata

# "@" not preceded by a word character, "@" or "." (so "user@example.org" is not a mention),
# then letters, digits, ".", "_", "-" or "+" (a local part), not ending in punctuation
MENTION = re.compile(r"(?<![\w@.])@([\w][\w.+-]*)")
MAX_MENTIONS = 50  # more in one comment is not a message to people


def fold(value: str) -> str:
    """Case and accents ignored: ``Élodie`` and ``elodie`` are the same handle."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def mentioned(text: str) -> set[str]:
    """The handles ``text`` mentions, folded (at most :data:`MAX_MENTIONS`)."""
    found: set[str] = set()
    for match in MENTION.finditer(text):
        handle = fold(match.group(1).rstrip(".-+"))
        if handle:
            found.add(handle)
        if len(found) >= MAX_MENTIONS:
            break
    return found


def handles(name: str, email: str) -> set[str]:
    """Every handle that names a user, folded: their e-mail's local part and their name."""
    local = email.rpartition("@")[0] or email
    result = {fold(local)}
    words = [fold(word) for word in name.split() if word]
    if words:
        result |= {joiner.join(words) for joiner in ("", ".", "_", "-")}
    return {handle for handle in result if handle}
