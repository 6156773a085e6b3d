"""``CERT_*`` environments for :func:`core.config.load_config`, with an instance dir of its own."""

from __future__ import annotations

from pathlib import Path


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"CERT_INSTANCE_DIR": str(tmp_path), **values}
