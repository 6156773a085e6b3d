"""Cheap password hashing for the test suite: the suite signs in thousands of times.

``argon2.profiles.CHEAPEST``'s costs (t=1, m=8 KiB, p=1), accepted only with ``testing`` on,
through the same path as production: :func:`core.auth.hashing.configure` and the
``argon2_*`` settings of :class:`core.config.Config`.
"""

from __future__ import annotations

from typing import Any

from argon2.profiles import CHEAPEST

from core.auth import hashing

CHEAP = hashing.parameters(CHEAPEST.time_cost, CHEAPEST.memory_cost, CHEAPEST.parallelism)

# overrides for ``create_app`` / ``load_config`` (with ``"testing": True``)
CHEAP_SETTINGS: dict[str, Any] = {
    "argon2_time_cost": CHEAP.time_cost,
    "argon2_memory_kib": CHEAP.memory_cost,
    "argon2_parallelism": CHEAP.parallelism,
}


def use_cheap_hashing() -> None:
    hashing.configure(CHEAP, testing=True)
