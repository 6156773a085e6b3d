"""STIX pattern values (:mod:`feeds.rules.patterns`): the fast path and the ``stix2patterns``
grammar give the same values; escapes; compound patterns; invalid patterns name the problem."""

from __future__ import annotations

import pytest

from feeds.rules.patterns import InvalidPattern, fast, parsed_values, values

SHA256 = "b" * 64
# single comparisons: what the fast path takes, and what it yields
CORPUS = [
    ("[ipv4-addr:value = '198.51.100.7']", ("ipv4", "198.51.100.7")),
    ("[ipv4-addr:value = '198.51.100.0/24']", ("ipv4", "198.51.100.0/24")),
    ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", ("ipv4", "198.51.100.0/24")),
    ("[ipv6-addr:value = '2001:db8::1']", ("ipv6", "2001:db8::1")),
    ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", ("ipv6", "2001:db8::/32")),
    ("[domain-name:value = 'evil.example']", ("domain", "evil.example")),
    ("[url:value = 'http://evil.example/a.php?x=1']", ("url", "http://evil.example/a.php?x=1")),
    ("[email-addr:value = 'attacker@evil.example']", ("email", "attacker@evil.example")),
    ("[email-message:from_ref.value = 'a@evil.example']", ("email", "a@evil.example")),
    ("[file:hashes.MD5 = '" + "a" * 32 + "']", ("md5", "a" * 32)),
    ("[file:hashes.'MD5' = '" + "a" * 32 + "']", ("md5", "a" * 32)),
    ("[file:hashes.'SHA-1' = '" + "c" * 40 + "']", ("sha1", "c" * 40)),
    ("[file:hashes.'SHA-256' = '" + SHA256 + "']", ("sha256", SHA256)),
    ("[ url:value  =  'http://e.example/it\\'s' ]", ("url", "http://e.example/it's")),
    ("[url:value = 'http://e.example/a\\\\b']", ("url", "http://e.example/a\\b")),
]


@pytest.mark.parametrize(("pattern", "expected"), CORPUS)
def test_the_fast_path_and_the_grammar_agree(pattern: str, expected: tuple[str, str]) -> None:
    assert fast(pattern) == expected
    assert parsed_values(pattern) == [expected]
    assert values(pattern) == [expected]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # compound: every supported equality, anywhere
        (
            "[domain-name:value = 'a.example'] OR [ipv4-addr:value = '192.0.2.1']",
            [("domain", "a.example"), ("ipv4", "192.0.2.1")],
        ),
        (
            "[file:hashes.'SHA-256' = '" + SHA256 + "' AND file:name = 'x.exe']"
            " FOLLOWEDBY [url:value = 'http://e.example/'] WITHIN 60 SECONDS",
            [("sha256", SHA256), ("url", "http://e.example/")],
        ),
        (
            "[domain-name:value IN ('a.example', 'b\\'c.example')]",
            [("domain", "a.example"), ("domain", "b'c.example")],
        ),
        # negations, other operators, other properties: nothing to index
        ("[ipv4-addr:value != '192.0.2.1']", []),
        ("[domain-name:value NOT = 'a.example']", []),
        ("[domain-name:value LIKE '%.example']", []),
        ("[file:name = 'invoice.exe']", []),
        ("[x-custom:value = 'a.example']", []),
        ("[domain-name:value ISSUBSET 'a.example']", []),
        ("[file:hashes.'SHA-512' = '" + "d" * 128 + "']", []),
    ],
)
def test_complex_patterns_go_through_the_grammar(
    pattern: str, expected: list[tuple[str, str]]
) -> None:
    assert fast(pattern) is None
    assert values(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[file:hashes.SHA-256 = '" + SHA256 + "']", "no viable alternative"),  # unquoted
        ("[ipv4-addr:value = '192.0.2.1'", "expecting ']'"),
        ("ipv4-addr:value = '192.0.2.1'", "invalid STIX pattern"),
        ("[url:value = 'a\\x']", "invalid STIX pattern"),  # only \' and \\ escape
        (
            "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
            "Duplicate qualifier",
        ),
    ],
)
def test_invalid_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidPattern, match="invalid STIX pattern") as raised:
        values(pattern)
    assert reason in str(raised.value)


def test_the_grammar_checks_hash_shapes_the_fast_path_leaves_to_the_index() -> None:
    """A malformed hash in a single comparison passes the fast path (the value is checked by
    :func:`feeds.rules.keys.index_value`, see test_stix_rules); the grammar path checks it."""
    pattern = "[file:hashes.MD5 = 'not-a-hash']"
    assert fast(pattern) == ("md5", "not-a-hash")
    with pytest.raises(InvalidPattern, match="'not-a-hash' is not a valid MD5 hash"):
        parsed_values(pattern)
