"""What one check of ``cert doctor`` found: a level and a sentence in plain words, with what to
do about it when it is not ok."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"  # works, but something an operator should know or fix
    PROBLEM = "problem"  # something is broken: ``cert doctor`` exits with 1


@dataclass(frozen=True)
class Finding:
    check: str  # short name: "database", "smtp", …
    level: Level
    summary: str  # what was found
    action: str = ""  # what to do (empty when ok)

    def line(self) -> str:
        text = f"{self.level.value:<8} {self.check}: {self.summary}"
        return f"{text} — {self.action}" if self.action else text

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "level": self.level.value,
            "summary": self.summary,
            "action": self.action,
        }


def ok(check: str, summary: str) -> Finding:
    return Finding(check, Level.OK, summary)


def warning(check: str, summary: str, action: str) -> Finding:
    return Finding(check, Level.WARNING, summary, action)


def problem(check: str, summary: str, action: str) -> Finding:
    return Finding(check, Level.PROBLEM, summary, action)
