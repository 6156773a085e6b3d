"""The deployment files, read as the tools that use them would: docker/compose.yaml (with its
anchors, merge keys and ``${VAR:-default}`` interpolation), docker/Dockerfile (its instructions)
and .dockerignore (its patterns)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ENTRYPOINT = DOCKER / "entrypoint.sh"
MAKE_SECRETS = DOCKER / "make-secrets.sh"

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${VAR}`` and ``${VAR:-default}`` (the only forms compose.yaml uses)."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if variables.get(name):
            return variables[name]
        assert default is not None, f"${{{name}}} has no default in compose.yaml"
        return default

    assert "$$" not in value
    return _INTERPOLATION.sub(replace, value)


def environment(service: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    """The service's environment as its container gets it (interpolated with ``variables``)."""
    raw = compose()["services"][service].get("environment") or {}
    assert isinstance(raw, dict), f"{service}: environment must be a mapping"
    return {name: interpolate(str(value), variables or {}) for name, value in raw.items()}


def command(service: str) -> list[str]:
    value = compose()["services"][service]["command"]
    assert isinstance(value, list), f"{service}: command must be a list (exec form)"
    return [str(word) for word in value]


# ---------------------------------------------------------------- Dockerfile
@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        value = json.loads(self.arguments)
        assert isinstance(value, list)
        return [str(word) for word in value]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def run_text(self) -> str:
        return "\n".join(i.arguments for i in self.all("RUN"))


def dockerfile_stages() -> list[Stage]:
    """The stages of docker/Dockerfile, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += (" " if current else "") + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current)
            current = ""
    assert not current, "a continuation line ends the Dockerfile"
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for text in logical:
        keyword, _, rest = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name] = default
            continue
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
            continue
        assert stages, f"{keyword} before the first FROM"
        stages[-1].instructions.append(Instruction(keyword, rest))
    return stages


def copy_sources(instruction: Instruction) -> tuple[str | None, list[str]]:
    """(the --from stage or None, the source paths) of a COPY."""
    words = shlex.split(instruction.arguments)
    origin = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            origin = flag.removeprefix("--from=")
    return origin, words[:-1]


# ---------------------------------------------------------------- .dockerignore
def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` (relative, with /) out: a pattern matches the
    path or one of its parent directories; ``**`` matches any number of directories."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.removeprefix("!").strip("/")
        if any(_match(body, prefix) for prefix in prefixes):
            result = not negate
    return result


def _match(pattern: str, path: str) -> bool:
    if pattern.startswith("**/"):
        rest = pattern.removeprefix("**/")
        parts = path.split("/")
        return any(_match(rest, "/".join(parts[i:])) for i in range(len(parts)))
    return pattern.count("/") == path.count("/") and fnmatchcase(path, pattern)


# ---------------------------------------------------------------- the settings services set
VIGIE_SERVICES = ("migrate", "web", "scheduler")
# read by `cert web`'s options (cert/cli/serve.py), not by core.config
WEB_COMMAND_VARIABLES = frozenset({"CERT_BIND", "CERT_WEB_WORKERS"})


def unknown_variables(names: list[str]) -> list[str]:
    """The names that are no Vigie setting: neither a CERT_* of core.config.ENVIRONMENT nor its
    ``_FILE`` form, nor a variable ``cert web`` reads."""
    from core.config import ENVIRONMENT

    known = set(ENVIRONMENT) | {f"{name}_FILE" for name in ENVIRONMENT}
    known |= WEB_COMMAND_VARIABLES
    return [name for name in names if name not in known]


def secret_paths(env: dict[str, str]) -> dict[str, str]:
    """Variable → secret name, for the variables naming /run/secrets/<name>."""
    return {
        name: value.removeprefix("/run/secrets/")
        for name, value in env.items()
        if value.startswith("/run/secrets/")
    }


def loopback_environment(
    service: str,
    *,
    secrets_dir: Path,
    state_dir: Path,
    database_url: str,
    redis_url: str,
    smtp_url: str,
    variables: dict[str, str] | None = None,
) -> dict[str, str]:
    """``service``'s environment from compose.yaml, with each container address mapped to its
    loopback counterpart: /run/secrets/X → ``secrets_dir``/X, the postgres, redis and mail
    services' URLs → the given ones (after checking they named those services), the volumes'
    directories → under ``state_dir``. Everything else is kept as compose.yaml says."""
    from sqlalchemy.engine import make_url

    env = environment(service, variables)
    for name, secret in secret_paths(env).items():
        env[name] = str(secrets_dir / secret)
    assert make_url(env["CERT_DATABASE_URL"]).host == "postgres"
    env["CERT_DATABASE_URL"] = database_url
    assert env["CERT_RATELIMIT_STORAGE_URL"].startswith("redis://redis:6379/")
    env["CERT_RATELIMIT_STORAGE_URL"] = redis_url
    assert env["CERT_SMTP_URL"] == "smtp://mail:1025"
    env["CERT_SMTP_URL"] = smtp_url
    for name in ("CERT_INSTANCE_DIR", "CERT_UPLOAD_DIR"):
        assert env[name].startswith("/var/lib/vigie/")
        env[name] = str(state_dir / env[name].removeprefix("/var/lib/vigie/"))
    return env
