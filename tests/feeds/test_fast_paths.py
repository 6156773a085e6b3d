"""The shortcuts bulk imports take give exactly the answers of the long way: refanging text
without any defanging mark, canonical IPv4 addresses and hashes in ``index_value``, plain ASCII
URLs (seeded random corpora, compared with the long way forced)."""

from __future__ import annotations

import random
import re

import pytest

from feeds.rules import keys, refang, values
from feeds.rules.keys import index_value
from feeds.rules.observables import canonicalise
from feeds.rules.values import InvalidObservable

ALPHABET = "hHxXtTpPsSfF*[](){}.:/@\\ \tabc019-_\u200b\uff0e\u3002\uff20dotat"


def _outcome(kind: str, raw: str) -> str:
    try:
        return canonicalise(kind, raw)
    except InvalidObservable as exc:
        return f"error: {exc}"


def test_refang_without_marks_returns_the_text_as_the_full_pass_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(18)
    corpus = ["".join(rng.choices(ALPHABET, k=rng.randrange(1, 24))) for _ in range(20_000)]
    corpus += ["http://plain.example/a?b=c", "HTTPS://A.B", "hxxp://a", "h[tt]p://a", "FXP:"]
    quick = [refang.refang_marked(text) for text in corpus]
    monkeypatch.setattr(refang, "_HINT", re.compile(""))  # always take the full pass
    assert quick == [refang.refang_marked(text) for text in corpus]


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        (
            "ipv4",
            lambda rng: ".".join(
                str(rng.choice([0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255, 256, 300]))
                for _ in range(4)
            ),
        ),
        (
            "ipv4",
            lambda rng: rng.choice(
                ["01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4\n", " 1.2.3.4", "١.2.3.4"]
            ),
        ),
        (
            "md5",
            lambda rng: "".join(rng.choices("0123456789abcdefABCDEFg", k=rng.choice([31, 32, 33]))),
        ),
        ("sha1", lambda rng: "".join(rng.choices("0123456789abcdef", k=rng.choice([40, 41])))),
        (
            "sha256",
            lambda rng: (
                "".join(rng.choices("0123456789abcdefA", k=64)) + rng.choice(["", "\n", " "])
            ),
        ),
    ],
)
def test_canonical_values_skip_the_long_way_with_the_same_result(kind: str, make: object) -> None:
    rng = random.Random(kind)
    for _ in range(2_000):
        raw = make(rng)  # type: ignore[operator]
        try:
            quick = index_value(kind, raw).value
        except InvalidObservable as exc:
            quick = f"error: {exc}"
        assert quick == _outcome(kind, raw), raw
    assert keys._CANONICAL  # the shortcut exists (this test would not test it otherwise)


def test_plain_ascii_urls_skip_the_loop_per_character() -> None:
    for raw, expected in [
        ("http://Evil.Example:80/a?b=c#d", "http://evil.example/a?b=c#d"),
        ("http://evil.example/\x7f", "http://evil.example/%7F"),
        ("http://evil.example/\u202eexe", "http://evil.example/%E2%80%AEexe"),
    ]:
        assert values.url(raw)[0] == expected
    for raw in ("http://evil.example/a\x1fb", "http://evil.example/\u2003"):
        with pytest.raises(InvalidObservable, match="whitespace"):
            values.url(raw)


def test_bulk_work_pauses_the_collector_and_restores_it() -> None:
    import gc

    from feeds.rules.bulk import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs without it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()
