"""The password policy (kernel: Flask-free), applied wherever a password is set: the account page,
``cert users create/set-password`` and :func:`core.auth.services.create_user`.

A password is refused when it is shorter than 12 characters (or longer than 1024), contains the
user's e-mail address (its local part, or a word of it) or name, is one of the 19,640 common
passwords shipped in ``data/common-passwords.txt.gz`` (read offline), also once case, accents,
separators, digits and symbols around it, repetition and the usual "leet" substitutions
(``P@ssw0rd2024!``) are undone, or is too predictable: fewer than five different characters, or
at most three runs of keyboard, alphabet or digit sequences (``qsdfghjklm``, ``98765432109876``).

The reasons are English sentences marked for translation (``N_``): the CLI and the API show them
as they are, web pages translate them with ``gettext``.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from importlib import resources

from core.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_WORD = 4  # shorter pieces of a name or an address ("Ali", "ma") are found inside real words
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "azertyuiop",  # French keyboards
    "qsdfghjklm",
    "wxcvbn",
)
_LEET = (str.maketrans("@4013$57!+", "aaoiesstit"), str.maketrans("@4013$57!+", "aaolesstlt"))
_AFFIX = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    return message


TOO_SHORT = N_("at least 12 characters")
TOO_LONG = N_("at most 1024 characters")
HAS_EMAIL = N_("must not contain your e-mail address")
HAS_NAME = N_("must not contain your name")
TOO_COMMON = N_("too common: this password appears in lists of leaked passwords")
TOO_PREDICTABLE = N_("too predictable: repeated characters or a keyboard or alphabet sequence")
WRONG_CURRENT = N_("Incorrect current password.")  # the account page's change form
REASONS = (TOO_SHORT, TOO_LONG, HAS_EMAIL, HAS_NAME, TOO_COMMON, TOO_PREDICTABLE)


@functools.cache
def common_passwords() -> frozenset[str]:
    data = resources.files("core.auth").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


def _fold(text: str) -> str:
    """Lower case without accents: "AMÎNA" and "amina" are the same word here."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _compact(text: str) -> str:
    """Letters and digits only (any script)."""
    return "".join(c for c in text if c.isalnum())


def _words(text: str) -> set[str]:
    """The whole of ``text`` (compacted) and each of its words, long enough to mean something."""
    folded = _fold(text)
    words = {w for w in re.split(r"[\W_\d]+", folded) if len(w) >= MIN_WORD}
    whole = _compact(folded)
    return words | ({whole} if len(whole) >= MIN_WORD else set())


def _unit(text: str) -> str:
    """The block that ``text`` repeats ("abcabc" → "abc"), or ``text`` itself."""
    if len(text) > 1:
        position = (text + text).find(text, 1)
        if position < len(text):
            return text[:position]
    return text


def _candidates(password: str) -> set[str]:
    """The forms under which a common password could hide in ``password``."""
    folded = _fold(password).strip()
    found = {folded}
    for base in (folded, _compact(folded)):
        core = base.strip(_AFFIX)  # digits and symbols around a word: "Password2024!"
        for variant in (base, core, *(core.translate(table) for table in _LEET)):
            compact = _compact(variant)
            found |= {compact, _unit(compact)}
    return {c for c in found if len(c) >= MIN_WORD}


def _adjacent(a: str, b: str) -> bool:
    if a == b:
        return True
    for sequence in SEQUENCES:
        i, j = sequence.find(a), sequence.find(b)
        if i >= 0 and j >= 0 and abs(i - j) == 1:
            return True
    return False


def _predictable(password: str) -> bool:
    compact = _compact(_fold(password))
    if len(set(compact)) < 5:
        return True
    runs = 1 + sum(1 for a, b in zip(compact, compact[1:], strict=False) if not _adjacent(a, b))
    return runs <= 3


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str:
    """Why ``password`` is refused (one of :data:`REASONS`), or ``""`` when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    text = _compact(_fold(password))
    local = (email or "").rpartition("@")[0] or (email or "")
    whole_local = _compact(_fold(local))
    if len(whole_local) >= MIN_WORD and whole_local in text:
        return HAS_EMAIL
    if name and any(word in text for word in _words(name)):
        return HAS_NAME
    if local and any(word in text for word in _words(local)):
        return HAS_EMAIL
    if _candidates(password) & common_passwords():
        return TOO_COMMON
    if _predictable(password):
        return TOO_PREDICTABLE
    return ""


def check_password(
    password: str, *, email: str | None = None, name: str | None = None, field: str = "password"
) -> None:
    """Raise :class:`ValidationFailed` naming ``field`` and the reason when it is refused."""
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise ValidationFailed(f"password refused: {problem}", fields={field: problem})
