"""Readable axes and names (pure): whole ticks for counts, the decimals fractional ticks need,
long names wrapped and, when clipped, whole in their tooltip."""

from __future__ import annotations

from incidents.reporting.charts import Formats
from incidents.reporting.svg import Bar, horizontal_bars, nice_ticks, tick_decimals, wrap


def test_count_axes_have_whole_ticks() -> None:
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    assert all(float(t).is_integer() for n in range(1, 500) for t in nice_ticks(n))


def test_fractional_ticks_get_the_decimals_that_tell_them_apart() -> None:
    ticks = nice_ticks(0.1, integer=False)
    assert ticks == [0, 0.02, 0.04, 0.06, 0.08, 0.1] and tick_decimals(ticks) == 2
    shown = [Formats("fr").number(round(t, tick_decimals(ticks))) for t in ticks]
    assert shown == ["0", "0,02", "0,04", "0,06", "0,08", "0,1"]  # never "0 0 0 0,1"
    assert tick_decimals(nice_ticks(40, integer=False)) == 0


def test_long_names_wrap_and_keep_their_whole_text_at_hand() -> None:
    name = "Ministère de l'Économie, des Finances et de la Réforme de l'Administration"
    lines = wrap(name, 128, 3)
    assert 2 <= len(lines) <= 3 and all(len(line) <= 128 / 6.6 for line in lines)
    assert wrap("Santé", 128) == ["Santé"]
    svg = str(
        horizontal_bars(
            ident="t", title="t", desc="t", x_label="n",
            bars=[Bar(name, 3, "3", href="/queue?organisation=x")],
            number=str,
        )
    )  # fmt: skip
    assert f"<title>{name.replace(chr(39), '&#39;')}</title>" in svg  # the tooltip: the whole name
    assert '<a href="/queue?organisation=x"' in svg
