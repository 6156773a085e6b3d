"""docs/operations.md names only what exists: every ``cert …`` command (walked through click's
command tree, with the options written after it), every ``CERT_*`` variable (read by the code,
or the ``<VAR>_FILE`` form of a setting) and every ``make`` target, so that the guide cannot drift
from the code."""

from __future__ import annotations

import re
from pathlib import Path

import click

from cert.cli import cli, load_commands
from core.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
SOURCES = ("cert", "core", "incidents", "feeds", "playbooks", "bulletins")

# `cert` then its words and options, up to a shell separator or the end of the span or line
COMMAND = re.compile(r"(?<![\w/.-])cert +([^;|&)`'\n]+)")
WORD = re.compile(r"[a-z][a-z0-9-]*")
VARIABLE = re.compile(r"\bCERT_[A-Z0-9_]*[A-Z0-9]\b")
# a make command: in a code span or block (`make install`), not the verb of a sentence
MAKE = re.compile(r"(?:^|`|\$ )make ([a-z][a-z0-9-]*)", flags=re.M)


def _spans(text: str) -> list[str]:
    """The guide's code: inline code spans and the lines of fenced blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return [line for block in blocks for line in block.splitlines()] + inline


def _resolve(words: list[str]) -> str | None:
    """What is wrong with ``cert <words>``, or None."""
    command: click.Command = cli
    path = ["cert"]
    rest = list(words)
    while rest and isinstance(command, click.Group) and WORD.fullmatch(rest[0]):
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"`{' '.join(path)}` has no command {rest[0]!r}"
        command, path = sub, [*path, rest.pop(0)]
    if isinstance(command, click.Group) and command is cli:
        return "a bare `cert`"
    options = {o for p in command.params for o in getattr(p, "opts", [])} | {"--help"}
    for word in rest:
        option = word.split("=", 1)[0]
        if option.startswith("--") and option not in options:
            return f"`{' '.join(path)}` has no option {option}"
    return None


def test_every_cert_command_and_option_named_exists() -> None:
    load_commands()
    found, problems = [], []
    for span in _spans(GUIDE.read_text(encoding="utf-8")):
        for match in COMMAND.finditer(span):
            words = match.group(1).split()
            if not WORD.fullmatch(words[0]):
                continue  # prose: "each `cert …` command"
            found.append(words)
            problem = _resolve(words)
            if problem:
                problems.append(f"cert {' '.join(words)}: {problem}")
    assert problems == []
    named = {" ".join(w[:2]) for w in found}
    assert {"backup --output", "db upgrade", "web --bind", "users mfa-reset"} <= named
    assert any("--role" in w for w in found)  # options after values are checked too


def _read_by_code() -> set[str]:
    names: set[str] = set(ENVIRONMENT)
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"[\"'](CERT_[A-Z0-9_]+)[\"']", path.read_text("utf-8")))
    return names


def test_every_variable_named_is_read_by_the_code() -> None:
    known = _read_by_code()
    named = set(VARIABLE.findall(GUIDE.read_text(encoding="utf-8")))
    unknown = sorted(
        n for n in named if n not in known and not (n.endswith("_FILE") and n[:-5] in ENVIRONMENT)
    )
    assert unknown == []
    assert {"CERT_PROXY_COUNT", "CERT_SECRET_KEY", "CERT_UPLOAD_DIR"} <= named


def test_every_make_target_named_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.M))
    named = set(MAKE.findall(GUIDE.read_text(encoding="utf-8")))
    assert named - targets == set()
    assert "install" in named


def test_the_checks_catch_a_made_up_name() -> None:
    """The walk refuses what does not exist (so that the tests above can fail)."""
    load_commands()
    assert _resolve(["backup", "--output"]) is None
    assert _resolve(["users", "mfa-reset", "--email"]) is None
    assert _resolve(["backup", "--gzip-level"]) is not None
    assert _resolve(["db", "downgrade"]) is not None
    assert _resolve(["frobnicate"]) is not None
    assert "CERT_NO_SUCH_SETTING" not in _read_by_code()
