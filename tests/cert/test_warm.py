"""A web worker settles before serving (:mod:`cert.warm`): the warning lists loaded and what is
alive frozen out of the collector's generations."""

from __future__ import annotations

import gc

from cert.warm import settle
from feeds.index import benign


def test_settle_loads_the_warning_lists_and_freezes_what_is_alive() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settle()
        assert gc.get_freeze_count() > 0
        assert benign.warning_lists("ipv4", "8.8.8.8")  # loaded (a public resolver)
    finally:
        gc.unfreeze()  # the suite goes on collecting as before
