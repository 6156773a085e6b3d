"""Reading TAXII requests (pure): Accept, parameters and the keyset token."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.sharing.taxii_params import (
    MAX_LIMIT,
    BadParameter,
    Cursor,
    accepts_taxii,
    parse_query,
)


def test_accept() -> None:
    assert accepts_taxii("application/taxii+json;version=2.1")
    assert accepts_taxii("application/json, application/taxii+json ; version=2.1")
    assert accepts_taxii("application/taxii+json")
    assert not accepts_taxii("application/taxii+json;version=2.0")
    assert not accepts_taxii("application/stix+json;version=2.1")
    assert not accepts_taxii("*/*") and not accepts_taxii("")


def test_query() -> None:
    query = parse_query({
        "limit": ["5000"], "added_after": ["2026-01-15T09:00:00.5Z"],
        "match[type]": ["indicator,sighting"], "match[version]": ["first,2026-01-15T09:00:00Z"],
        "match[spec_version]": ["2.0"],
    })  # fmt: skip
    assert query.limit == MAX_LIMIT
    assert query.added_after == dt.datetime(2026, 1, 15, 9, 0, 0, 500000, tzinfo=dt.UTC)
    assert query.types == {"indicator", "sighting"}
    assert query.versions is None  # "first" of objects with one version: any version
    assert not query.spec_ok
    assert parse_query({"match[version]": ["2026-01-15T09:00:00+01:00"]}).versions == (
        dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    "args",
    [
        {"limit": ["0"]}, {"limit": ["-1"]}, {"limit": ["١٠"]}, {"limit": ["1", "2"]},
        {"added_after": ["2026-01-15"]}, {"added_after": ["2026-01-15T09:00:00"]},
        {"added_after": [""]}, {"next": ["%%%"]}, {"next": ["WzEsMiwzXQ"]}, {"match[foo]": ["x"]},
        {"match[version]": ["latest"]},
    ],
)  # fmt: skip
def test_bad_parameters_are_named(args: dict[str, list[str]]) -> None:
    with pytest.raises(BadParameter) as caught:
        parse_query(args)
    assert str(caught.value).split(":")[0] in {*args, "next"}


def test_cursor_tokens_round_trip() -> None:
    cursor = Cursor(dt.datetime(2026, 1, 15, 9, 0, 0, 123456, tzinfo=dt.UTC), 2, 41)
    assert Cursor.read(cursor.token()) == cursor
    assert "=" not in cursor.token()


def test_match_version_picks_edges_or_timestamps() -> None:
    assert parse_query({}).edges == {"last"} and parse_query({}).versions is None
    both = parse_query({"match[version]": ["first,last"]})
    assert both.edges == {"first", "last"} and both.versions is None
    assert parse_query({"match[version]": ["all"]}).edges == {"all"}
    at = parse_query({"match[version]": ["2026-01-15T09:00:00.123Z"]})
    assert at.versions == (dt.datetime(2026, 1, 15, 9, 0, 0, 123000, tzinfo=dt.UTC),)
    assert at.edges == {"all"}  # the timestamps choose
    every = parse_query({"match[version]": ["first"], "match[type]": ["report"]})
    assert every.with_id("report--x").every_version().edges == {"all"}
    assert every.with_id("report--x").types is None
