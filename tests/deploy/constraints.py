"""docker/constraints.txt: the exact versions of Vigie's runtime dependencies, transitive ones
included, as installed in the environment the suite runs in (so the image runs what was tested).

pyproject.toml pins the direct dependencies; this adds their dependencies' versions. Write it
again after changing a pin (``tests/deploy/test_dockerfile.py`` fails until then):

    .venv/bin/python -m tests.deploy.constraints > docker/constraints.txt
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
HEADER = """\
# The versions of Vigie's runtime dependencies (and theirs) the suite ran with: docker/Dockerfile
# installs the project with `pip install --constraint` of this file. Generated, do not edit:
#   .venv/bin/python -m tests.deploy.constraints > docker/constraints.txt
"""


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def runtime_closure() -> dict[str, str]:
    """Canonical name → installed version of every package the runtime dependencies need."""
    versions: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    pending: list[tuple[Requirement, str]] = [(req, "") for req in direct_requirements()]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            distribution = metadata.distribution(name)
            versions[name] = distribution.version
            pending.extend((Requirement(text), wanted) for text in distribution.requires or [])
    return versions


def render() -> str:
    lines = [f"{name}=={version}" for name, version in sorted(runtime_closure().items())]
    return HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
