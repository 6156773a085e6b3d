"""``CERT_*`` environments for :func:`core.config.load_config`, with an instance dir of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.kit.hashing import CHEAP_SETTINGS


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"CERT_INSTANCE_DIR": str(tmp_path), **values}


# The suite's application settings: cheap password hashing, and two-factor sign-in required of
# no role, so that tests sign analysts in with a password alone. The two-factor tests
# (tests/core/test_mfa*.py, tests/cert/test_mfa*.py, tests/browser/test_mfa*.py) set
# ``mfa_required_roles`` to the default ("analyst,lead,admin"), which test_config checks.
SUITE_SETTINGS: dict[str, Any] = {**CHEAP_SETTINGS, "mfa_required_roles": ""}
