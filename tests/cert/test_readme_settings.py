"""README documents every setting: each ``CERT_*`` variable that ``core.config`` reads appears in
it (the configuration table or a section), so that a new setting cannot ship undocumented."""

from __future__ import annotations

from pathlib import Path

from core.config import ENVIRONMENT

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in ENVIRONMENT if f"`{name}`" not in text]
    assert missing == []
    assert "CERT_MFA_REQUIRED_ROLES" in ENVIRONMENT  # the list is the real one, not empty
