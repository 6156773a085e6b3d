"""core.inputs, the one parser of untrusted numbers, instants and text (pure, no database)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.orm import Session

from core import inputs
from core.clock import FrozenClock
from core.mail import enqueue_mail

NOW = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "raw", ["", " ", "-1", "+1", "1.0", "1e3", "²", "١٠", "１", "0x10", "9" * 20]
)
def test_whole_numbers_are_ascii_digits(raw: str) -> None:
    with pytest.raises(ValueError, match="a whole number from 0 to 100"):
        inputs.whole_number(raw, 0, 100)


def test_whole_numbers_are_bounded() -> None:
    assert inputs.whole_number(" 42 ", 0, 100) == 42
    assert inputs.whole_number("0100", 0, 100) == 100
    for raw in ("101", "9223372036854775808"):
        with pytest.raises(ValueError):
            inputs.whole_number(raw, 0, 100)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # no UTC form
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14))),
        dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_instants_out_of_range_are_refused(value: dt.datetime) -> None:
    with pytest.raises(ValueError, match="must be from 1970-01-01 to 2200-01-01"):
        inputs.instant(value)


def test_instants_need_an_offset_and_come_back_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone offset"):
        inputs.instant(dt.datetime(2026, 1, 1))  # noqa: DTZ001
    casablanca = dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert inputs.instant(casablanca) == dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)


def test_detection_times_are_past_within_the_clock_skew() -> None:
    assert inputs.past_instant(NOW + inputs.CLOCK_SKEW, NOW) == NOW + inputs.CLOCK_SKEW
    with pytest.raises(ValueError, match="future"):
        inputs.past_instant(NOW + inputs.CLOCK_SKEW + dt.timedelta(seconds=1), NOW)
    assert inputs.past_instant(inputs.EARLIEST_DETECTION, NOW) == inputs.EARLIEST_DETECTION
    with pytest.raises(ValueError, match="before 1990-01-01"):
        inputs.past_instant(inputs.EARLIEST_DETECTION - dt.timedelta(seconds=1), NOW)


def test_nul_is_found_where_it_is() -> None:
    assert inputs.nul_path({"a": [{"b": "ok"}, {"c": "x\x00"}]}) == "a[1].c"
    assert inputs.nul_path({"k\x00": 1}) == "k\\u0000"
    assert inputs.nul_path("\x00") == "body"
    assert inputs.nul_path({"a": ["ok", 1, None, 2.5, True]}) is None


def test_bidi_controls_are_shown_not_obeyed() -> None:
    shown = inputs.show_bidi("facture\u202efdp.exe \u2067\u2069\u200e\u200f\u061c\u202a")
    assert shown == ("facture⟨U+202E⟩fdp.exe ⟨U+2067⟩⟨U+2069⟩⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩⟨U+202A⟩")
    assert not inputs.has_bidi(shown) and inputs.show_bidi(shown) == shown
    assert inputs.show_bidi("العربية") == "العربية"


def test_message_ids_do_not_depend_on_the_random_module(
    db_session: Session, clock: FrozenClock
) -> None:
    """Hypothesis (the API fuzz) seeds ``random`` for each example: ``make_msgid`` then gave
    equal ids within a centisecond, and the outbox's unique constraint a 500."""
    ids = set()
    for _ in range(20):
        random.seed(2026)
        message = enqueue_mail(
            db_session,
            to="rssi@ministere.example",
            subject="Incident",
            text="Bonjour",
            clock=clock,
            mail_domain="example.test",
        )
        ids.add(message.message_id)
    assert len(ids) == 20
