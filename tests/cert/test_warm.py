"""A web worker settles before serving (:mod:`cert.warm`): the warning lists loaded and what is
alive frozen out of the collector's generations."""

from __future__ import annotations

import gc
import subprocess
import sys

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


def test_commands_start_without_the_pdf_and_schema_libraries_and_workers_load_them() -> None:
    """``cert`` commands and the scheduler import every slice: WeasyPrint and jsonschema (~2 s
    of start-up) wait for their first use; a web worker loads them before serving."""
    script = (
        "import sys; from cert.cli import main; from cert.app import create_app; "
        "from cert.warm import LAZY_LIBRARIES, settle; "
        "print(sorted(set(LAZY_LIBRARIES) & set(sys.modules))); settle(); "
        "print(sorted(set(LAZY_LIBRARIES) & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.splitlines() == ["[]", "['jsonschema', 'weasyprint']"]
