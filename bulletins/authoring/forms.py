"""The bulletin form (the draft page's fields ↔ :class:`~bulletins.authoring.schemas.DraftIn`):
the posted values become the dict :func:`~bulletins.authoring.sources.parse_draft` validates, and
each of its refusals is put next to the field it names (``texts.fr.title`` → ``title-fr``,
``affected[2].product`` → ``affected-2-product``, ``indicators[4].type`` → ``indicators``, with
the line).

Field names: ``kind``, ``tlp``, ``risk``, ``impact``, rows ``affected-<n>-vendor|product|versions``
and ``scores-<n>-cve|version|base_score|vector``, textareas ``cves``, ``links`` and
``indicators`` (one per line; an indicator is ``type value``), multi-selects ``organisations``
and ``lists``, and per language (fr, en, ar) ``title-<l>``, ``summary-<l>``, ``solution-<l>``,
``risks-<l>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from bulletins.authoring.schemas import LANGUAGES
from bulletins.models import Bulletin

TEXT_FIELDS = ("title", "summary", "solution", "risks")
AFFECTED_FIELDS = ("vendor", "product", "versions")
SCORE_FIELDS = ("cve", "version", "base_score", "vector")
MIN_ROWS = 3
ADD_ROWS = 3
MAX_ROWS = 500


def _rows(
    form: MultiDict[str, str], prefix: str, fields: tuple[str, ...], *, chosen: str = ""
) -> list[dict[str, str]]:
    """Posted rows ``<prefix>-<n>-<field>`` in order of n, the empty ones dropped (a select
    ``chosen`` always has a value: it does not make a row)."""
    numbers = sorted(
        {int(m.group(1)) for key in form_keys(form) if (m := re.match(rf"{prefix}-(\d+)-", key))}
    )[:MAX_ROWS]
    rows = []
    for n in numbers:
        row = {f: str(form.get(f"{prefix}-{n}-{f}", "") or "").strip() for f in fields}
        if any(v for f, v in row.items() if f != chosen):
            rows.append({"_n": str(n), **row})
    return rows


def form_keys(form: MultiDict[str, str]) -> list[str]:
    return [str(k) for k in form]


def _lines(value: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(value.splitlines(), 1) if line.strip()]


class Posted:
    """The posted form as form values (to show again) and as :class:`DraftIn` data."""

    def __init__(self, form: MultiDict[str, str]) -> None:
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        for name in ("kind", "tlp", "risk", "impact", "cves", "links", "indicators"):
            self.values[name] = str(form.get(name, "") or "")
        self.values["organisations"] = [str(v) for v in form.getlist("organisations") if v]
        self.values["lists"] = [str(v) for v in form.getlist("lists") if v]
        for language in LANGUAGES:
            for field in TEXT_FIELDS:
                key = f"{field}-{language}"
                self.values[key] = str(form.get(key, "") or "")
        self.affected = _rows(form, "affected", AFFECTED_FIELDS)
        self.scores = _rows(form, "scores", SCORE_FIELDS, chosen="version")
        self._indicator_lines: list[int] = []
        extra = ADD_ROWS if "add_rows" in form else 0
        self.values["affected_rows"] = _renumber(self.affected, AFFECTED_FIELDS, extra)
        self.values["score_rows"] = _renumber(self.scores, SCORE_FIELDS, extra)

    def data(self) -> dict[str, Any]:
        """The DraftIn input (an indicator line without a value is an error here already)."""
        v = self.values
        indicators = []
        for number, line in _lines(v["indicators"]):
            kind, _, value = line.partition(" ")
            if not value.strip():
                self.errors["indicators"] = f"line {number}: write the type, a space, the value"
                continue
            indicators.append({"type": kind.strip().lower(), "value": value.strip()})
            self._indicator_lines.append(number)
        texts = {}
        for language in LANGUAGES:
            text = {f: v[f"{f}-{language}"] for f in TEXT_FIELDS}
            if language == "fr" or any(s.strip() for s in text.values()):
                texts[language] = text
        scores = [
            {"cve": s["cve"] or None, "version": s["version"] or "3.1",
             "base_score": s["base_score"] or None, "vector": s["vector"]}
            for s in self.scores
        ]  # fmt: skip
        return {
            "kind": v["kind"], "tlp": v["tlp"] or "TLP:CLEAR", "risk": v["risk"] or "moderate",
            "impact": v["impact"] or "moderate",
            "affected": [{f: a[f] for f in AFFECTED_FIELDS} for a in self.affected],
            "cves": [line for _, line in _lines(v["cves"])],
            "links": [line for _, line in _lines(v["links"])],
            "indicators": indicators, "scores": scores, "texts": texts,
            "organisations": v["organisations"], "lists": v["lists"],
        }  # fmt: skip

    def refused(self, fields: Mapping[str, str]) -> None:
        """Put each refusal of :class:`DraftIn` (or of the audience) next to its field."""
        for name, message in fields.items():
            key, shown = self._field(name, message)
            self.errors[key] = f"{self.errors[key]}; {shown}" if key in self.errors else shown

    def _field(self, name: str, message: str) -> tuple[str, str]:
        if m := re.fullmatch(r"texts\.(fr|en|ar)\.(\w+)", name):
            return f"{m.group(2)}-{m.group(1)}", message
        if name.startswith("texts"):
            return "title-fr", message
        for prefix, rows in (("affected", self.affected), ("scores", self.scores)):
            if m := re.fullmatch(rf"{prefix}\[(\d+)\]\.(\w+)", name):
                index = int(m.group(1))
                return f"{prefix}-{index}-{m.group(2)}" if index < len(rows) else prefix, message
        if m := re.fullmatch(r"indicators\[(\d+)\].*", name):
            index = int(m.group(1))
            line = self._indicator_lines[index] if index < len(self._indicator_lines) else index + 1
            return "indicators", f"line {line}: {message}"
        top = re.split(r"[.\[]", name, maxsplit=1)[0]
        known = {"kind", "tlp", "risk", "impact", "cves", "links", "indicators", "affected",
                 "scores", "organisations", "lists"}  # fmt: skip
        return (top if top in known else "bulletin"), message


def _renumber(
    rows: list[dict[str, str]], fields: tuple[str, ...], extra: int
) -> list[dict[str, str]]:
    """The rows to show (renumbered from 0, as their errors are), with empty ones to fill."""
    shown = [{f: row[f] for f in fields} for row in rows]
    blank = max(MIN_ROWS - len(shown), 1) + extra
    return shown + [dict.fromkeys(fields, "") for _ in range(blank)]


def values_of(bulletin: Bulletin, organisations: list[str], lists: list[str]) -> dict[str, Any]:
    """The form values of a stored draft."""
    values: dict[str, Any] = {
        "kind": bulletin.kind.value, "tlp": bulletin.tlp, "risk": bulletin.risk.value,
        "impact": bulletin.impact.value, "cves": "\n".join(bulletin.cves),
        "links": "\n".join(bulletin.links),
        "indicators": "\n".join(f"{i['type']} {i['value']}" for i in bulletin.indicators),
        "organisations": organisations, "lists": lists,
    }  # fmt: skip
    for language in LANGUAGES:
        text = bulletin.text(language)
        for field in TEXT_FIELDS:
            values[f"{field}-{language}"] = getattr(text, field) if text is not None else ""
    affected = [{f: str(a.get(f) or "") for f in AFFECTED_FIELDS} for a in bulletin.affected]
    scores = [{f: "" if s.get(f) is None else str(s.get(f)) for f in SCORE_FIELDS}
              for s in (bulletin.scores or [])]  # fmt: skip
    values["affected_rows"] = _renumber(affected, AFFECTED_FIELDS, 0)
    values["score_rows"] = _renumber(scores, SCORE_FIELDS, 0)
    return values


def blank_values() -> dict[str, Any]:
    values: dict[str, Any] = {"kind": "advisory", "tlp": "TLP:CLEAR", "risk": "moderate",
                              "impact": "moderate", "organisations": [], "lists": []}  # fmt: skip
    values["affected_rows"] = _renumber([], AFFECTED_FIELDS, 0)
    values["score_rows"] = _renumber([], SCORE_FIELDS, 0)
    return values
