"""The retro-hunt's in-memory pass (:mod:`incidents.intel.hunting`, pure): the index's key rules
with only the prefix lengths the new networks have, the strongest reason kept."""

from __future__ import annotations

from feeds.rules.keys import Why, lookup_keys
from incidents.intel.hunting import Hit, NewValues, Seen, indirect, strongest


def test_prefixes_limit_the_networks_to_those_lengths_and_change_nothing_else() -> None:
    for kind, value in [
        ("ipv4", "198.51.100.23"),
        ("ipv6", "2001:db8:aa::17"),
        ("url", "http://[2001:db8::1]:8443/a"),
        ("url", "https://203.0.113.77/x"),
        ("domain", "a.b.evil.example"),
    ]:
        every = lookup_keys(kind, value)
        some = lookup_keys(kind, value, prefixes={24, 48})
        kept = [
            k
            for k in every
            if k.kind not in ("ipv4", "ipv6")
            or "/" not in k.value
            or k.value.endswith(("/24", "/48"))
        ]
        assert some == kept, value
    assert [k.value for k in lookup_keys("ipv4", "198.51.100.23", prefixes={24})] == [
        "198.51.100.23",
        "198.51.100.0/24",
    ]


def test_indirect_hits_leave_exact_ones_to_sql_and_read_only_what_can_meet() -> None:
    values = NewValues(
        [(1, "ipv4", "198.51.100.0/24"), (2, "domain", "evil.example"), (3, "sha256", "a" * 64)]
    )
    assert values.prefixes == {24} and values.indirect_types() == ["domain", "ipv4", "url"]
    assert NewValues([(3, "sha256", "a" * 64)]).indirect_types() == []
    assert NewValues([(4, "ipv4", "203.0.113.9")]).indirect_types() == ["url"]
    seen = [
        Seen(10, 1, "ipv4", "198.51.100.23"),
        Seen(11, 1, "domain", "evil.example"),  # exact: SQL's
        Seen(12, 2, "domain", "x.evil.example"),
        Seen(13, 2, "url", "https://evil.example/a"),
        Seen(14, 3, "ipv4", "not an address"),  # unreadable: matches nothing
    ]
    assert [(h.observable_id, h.indicator_id, h.why) for h in indirect(values, seen)] == [
        (10, 1, Why.NETWORK),
        (12, 2, Why.PARENT_DOMAIN),
        (13, 2, Why.URL_HOST),
    ]


def test_the_strongest_reason_wins() -> None:
    hits = [
        Hit(1, 1, 7, "evil.example", Why.URL_HOST),
        Hit(1, 1, 7, "https://evil.example/a", Why.EXACT),
        Hit(2, 1, 7, "evil.example", Why.PARENT_DOMAIN),
    ]
    assert [(h.observable_id, h.why) for h in strongest(hits)] == [
        (1, Why.EXACT),
        (2, Why.PARENT_DOMAIN),
    ]
