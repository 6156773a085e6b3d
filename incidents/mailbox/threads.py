"""Threading a received message: incident references, subjects, the new part of a reply (pure).

A reply carries its incident's reference in the subject (``[MACERT-2026-000042]``, as Vigie's
outgoing mail writes it) and usually the whole quoted history below the answer: the conversation
keeps only what is new, in the words of the mail programs of the CERT's constituents (Outlook in
French, English or Arabic, Thunderbird, Gmail, webmails).
"""

from __future__ import annotations

import re

# reply and forward prefixes: English, French (TR, Réf), German (AW, WG), Nordic (SV),
# Spanish (RV), Arabic ("رد", "إعادة توجيه", "توجيه"); "Re[2]:" and a full-width colon too
REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|fw|tr|r[ée]f|aw|wg|sv|rv|رد|إعادة\s+توجيه|توجيه)"
    r"\s*(?:\[\d{1,3}\]|\(\d{1,3}\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
_MAX_SUBJECT_CHARS = 2000

# lines that open the quoted history of a reply
_HISTORY_LINE = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|message original|message d'origine|forwarded message"
    r"|message transf[ée]r[ée]|الرسالة الأصلية|رسالة معاد توجيهها)\s*-{2,}"
    r"|_{10,}"  # Outlook's line above its header block
    # "Le <date>, <name> a écrit :" and its kin: a date, so a digit
    r"|(?=.*\d)(?:"
    r"le\s.{1,200}\sa\s+[ée]crit"
    r"|on\s.{1,200}\swrote"
    r"|am\s.{1,200}\sschrieb.{0,100}"
    r"|[\u200e\u200f\u202a-\u202e]*في\s.{1,200}كتب.{0,200}"
    r")\s*[:：]"
    r")\s*$",
    re.IGNORECASE,
)
# Outlook's header block: "De : …" then, within a few lines, "Envoyé : …"
_FROM_LINE = re.compile(r"^\s*\*?(?:de|from|من|von)\s*\*?\s*[:：]\s*\S", re.IGNORECASE)
_SENT_LINE = re.compile(
    r"^\s*\*?(?:envoy[ée]|sent|date|gesendet|أرسل|أرسلت|التاريخ|تاريخ)\s*\*?\s*[:：]",
    re.IGNORECASE,
)


def references_in(subject: str, prefix: str) -> list[str]:
    """Incident references ``<PREFIX>-<YYYY>-<NNNNNN>`` of ``subject``, upper-cased, unique, in
    order (in a ``[…]`` tag or bare)."""
    pattern = re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}-(\d{{4}})-(\d{{6,12}})(?!\d)", re.IGNORECASE
    )
    found: list[str] = []
    for match in pattern.finditer(subject[:_MAX_SUBJECT_CHARS]):
        reference = f"{prefix.upper()}-{match.group(1)}-{match.group(2)}"
        if reference not in found:
            found.append(reference)
    return found


def clean_subject(subject: str, prefix: str) -> str:
    """``subject`` without its reply/forward prefixes and ``[REFERENCE]`` tags, one line."""
    tag = re.compile(rf"\[\s*{re.escape(prefix)}-\d{{4}}-\d{{6,12}}\s*\]", re.IGNORECASE)
    text = _SPACES.sub(" ", tag.sub(" ", subject[:_MAX_SUBJECT_CHARS])).strip()
    while True:
        shorter = REPLY_PREFIX.sub("", text, count=1).strip()
        if shorter == text:
            return text
        text = shorter


def without_reply_prefixes(subject: str) -> str:
    """``subject`` with every leading ``Re:``-style prefix removed."""
    text = subject.strip()
    while (shorter := REPLY_PREFIX.sub("", text, count=1).strip()) != text:
        text = shorter
    return text


def new_text(text: str) -> str:
    """The new part of a reply: the text above its quoted history (never "" for a non-blank
    ``text``: when nothing new is found, the whole text)."""
    lines = text.split("\n")
    end = _history_start(lines)
    kept = lines[:end]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()  # the trailing quoted block (and the blank lines around it)
    new = "\n".join(kept).strip()
    return new or text.strip()


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _HISTORY_LINE.match(line) or _wrapped_history_line(lines, index):
            return index
        following = lines[index + 1 : index + 5]
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(n) for n in following):
            return index
    return len(lines)


def _wrapped_history_line(lines: list[str], index: int) -> bool:
    """ "Le lun. 4 déc. 2026 à 10:00, X <x@y> a" + "écrit :" (mail programs wrap it)."""
    if index + 1 >= len(lines) or not lines[index].strip():
        return False
    joined = f"{lines[index].strip()} {lines[index + 1].strip()}"
    return len(joined) < 400 and _HISTORY_LINE.match(joined) is not None
