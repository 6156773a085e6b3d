"""The built-in playbook library (pure, plus reading its package data): reviewed OASIS CACAO 2.0
playbooks a CERT loads with ``cert playbooks load-builtin`` (and ``cert demo``).

Each playbook is one file, ``playbooks/library/data/builtin/<key>.json``::

    {"key": "ransomware",
     "triggers": [{"event": "created", "conditions": {"categories": [...], "types": [...]}}],
     "schedules": [{"cron": "0 7 * * *", "timezone": "Africa/Casablanca"}],
     (a schedule with "scope": "cert" runs once per slot, for the CERT's own organisation —
     the SLA watch, which looks at every incident — instead of once per organisation)
     "playbook": {… the CACAO document, every human text written "@<text key>" …},
     "texts": {"fr": {"name": "…", "description": "…", "<text key>": "…"}, "en": {…}, "ar": {…}}}

Translators edit ``texts`` only: the skeleton holds ids, types, commands and conditions once, and
every string of it that is exactly ``"@<text key>"`` is replaced by that key's text in the
language rendered (:func:`render`). A language is a rendering, not a new playbook: the CACAO id,
the step ids and ``modified`` are the same in every language. A newer built-in version is a
newer ``modified`` in the skeleton.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from core.i18n import DEFAULT_LOCALE, LOCALES

LANGUAGES: Final = LOCALES  # fr, en, ar
DEFAULT_LANGUAGE: Final = DEFAULT_LOCALE  # the CERT's working language (fr)
TEXT_KEY = re.compile(r"^@([a-z0-9][a-z0-9_.-]*)$")
DATA: Final = "data/builtin"


class BuiltinError(ValueError):
    """A built-in file that cannot be rendered (a missing text, an unknown language)."""


@dataclass(frozen=True)
class Trigger:
    event: str  # a playbooks.models.TriggerEvent value
    conditions: dict[str, Any]


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str
    scope: str = "organisations"  # "cert": one run per slot, for the CERT's own organisation


@dataclass(frozen=True)
class BuiltinPlaybook:
    key: str
    document: dict[str, Any]  # the CACAO document in one language
    triggers: tuple[Trigger, ...] = ()
    schedules: tuple[Schedule, ...] = ()

    @property
    def cacao_id(self) -> str:
        return str(self.document["id"])

    def text(self) -> str:
        """The document as import stores it (one rendering, byte for byte the same each time)."""
        return document_text(self.document)


def document_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def playbook_keys() -> list[str]:
    """The built-in playbooks' keys, in a stable order (the files' names)."""
    folder = resources.files("playbooks.library").joinpath(DATA)
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def raw(key: str) -> dict[str, Any]:
    """The file of ``key`` as it is (skeleton and texts)."""
    path = resources.files("playbooks.library").joinpath(f"{DATA}/{key}.json")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def text_keys(skeleton: object) -> Iterator[str]:
    """Every text key the skeleton refers to (``"@key"`` strings), in document order."""
    if isinstance(skeleton, str):
        match = TEXT_KEY.match(skeleton)
        if match:
            yield match.group(1)
    elif isinstance(skeleton, Mapping):
        for value in skeleton.values():
            yield from text_keys(value)
    elif isinstance(skeleton, list):
        for value in skeleton:
            yield from text_keys(value)


def render(skeleton: Any, texts: Mapping[str, str], *, where: str = "$") -> Any:
    """``skeleton`` with each ``"@key"`` string replaced by ``texts[key]``; ``BuiltinError``
    naming the JSON path of a key without a text."""
    if isinstance(skeleton, str):
        match = TEXT_KEY.match(skeleton)
        if match is None:
            return skeleton
        if match.group(1) not in texts:
            raise BuiltinError(f"{where}: no text for {match.group(1)!r}")
        return texts[match.group(1)]
    if isinstance(skeleton, Mapping):
        return {k: render(v, texts, where=f"{where}.{k}") for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [render(v, texts, where=f"{where}[{i}]") for i, v in enumerate(skeleton)]
    return skeleton


def load(key: str, language: str = DEFAULT_LANGUAGE) -> BuiltinPlaybook:
    if language not in LANGUAGES:
        raise BuiltinError(f"unknown language {language!r} (one of {', '.join(LANGUAGES)})")
    data = raw(key)
    texts = data["texts"].get(language)
    if not isinstance(texts, Mapping):
        raise BuiltinError(f"{key}: no texts in {language!r}")
    return BuiltinPlaybook(
        key=key,
        document=render(data["playbook"], texts, where=f"{key}:$"),
        triggers=tuple(
            Trigger(t["event"], dict(t.get("conditions") or {})) for t in data.get("triggers") or ()
        ),  # fmt: skip
        schedules=tuple(
            Schedule(s["cron"], s["timezone"], s.get("scope", "organisations"))
            for s in data.get("schedules") or ()
        ),  # fmt: skip
    )


def documents(language: str = DEFAULT_LANGUAGE) -> list[BuiltinPlaybook]:
    """Every built-in playbook rendered in ``language`` (``fr``, ``en`` or ``ar``)."""
    return [load(key, language) for key in playbook_keys()]
