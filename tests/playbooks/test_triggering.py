"""Trigger conditions against an incident's facts (pure): every key, absent keys, several keys
together, and conditions that cannot be read (they never hold)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from playbooks.rules.triggering import IncidentFacts, matches, problems

FACTS = IncidentFacts(
    category="malicious-code",
    type="infected-system",
    priority="P2",
    tlp="TLP:AMBER",
    organisation_id=7,
    sector="health",
    status="new",
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),  # no condition: every incident
        ({"categories": ["malicious-code"]}, True),
        ({"categories": ["fraud", "Malicious-Code "]}, True),  # case and spaces ignored
        ({"categories": ["fraud"]}, False),
        ({"categories": []}, False),  # an empty list admits nothing
        ({"types": ["infected-system", "c2-server"]}, True),
        ({"types": ["ransomware"]}, False),
        ({"min_priority": "P1"}, False),  # P2 is not at least P1
        ({"min_priority": "P2"}, True),  # "at least P2": P1 or P2
        ({"min_priority": "p3"}, True),
        ({"min_priority": "P4"}, True),
        ({"tlp": ["TLP:AMBER"]}, True),
        ({"tlp": ["amber"]}, True),  # the prefix may be left out
        ({"tlp": ["TLP:AMBER+STRICT", "TLP:RED"]}, False),
        ({"tlp": ["TLP:GREEN"]}, False),
        ({"organisation_ids": [7, 9]}, True),
        ({"organisation_ids": [9]}, False),
        ({"sectors": ["health"]}, True),
        ({"sectors": ["energy", "government"]}, False),
        ({"statuses": ["new", "triaged"]}, True),
        ({"statuses": ["resolved"]}, False),
        (  # every present key must hold
            {"categories": ["malicious-code"], "min_priority": "P2", "sectors": ["health"]},
            True,
        ),
        ({"categories": ["malicious-code"], "min_priority": "P1"}, False),
        ({"categories": ["malicious-code"], "organisation_ids": [8]}, False),
    ],
)
def test_conditions_against_the_facts(conditions: dict[str, Any], expected: bool) -> None:
    assert matches(conditions, FACTS) is expected


@pytest.mark.parametrize(
    "conditions",
    [
        {"min_priority": "P5"},
        {"min_priority": 2},
        {"categories": "malicious-code"},  # a string, not a list
        {"organisation_ids": ["7"]},
        {"organisation_ids": [True]},
        {"colour": ["red"]},  # an unknown key cannot be checked
        {"categories": ["malicious-code"], "statuses": [None]},
    ],
)
def test_conditions_that_cannot_be_read_never_hold(conditions: dict[str, Any]) -> None:
    assert not matches(conditions, FACTS)
    assert problems(conditions)


def test_what_the_facts_lack_never_matches() -> None:
    untyped = replace(FACTS, type=None, sector=None)
    assert not matches({"types": ["infected-system"]}, untyped)
    assert not matches({"sectors": ["health"]}, untyped)
    assert matches({"categories": ["malicious-code"]}, untyped)
    assert not matches({"min_priority": "P4"}, replace(FACTS, priority="urgent"))


def test_problems_name_each_condition_by_its_path() -> None:
    assert problems({"categories": ["fraud"], "min_priority": "P1", "organisation_ids": [1]}) == {}
    found = problems({"min_priority": "P9", "tlp": "red", "colour": 1, "organisation_ids": "x"})
    assert set(found) == {"$.min_priority", "$.tlp", "$.colour", "$.organisation_ids"}
    assert "P1, P2, P3, P4" in found["$.min_priority"]
    assert problems(["categories"]) == {"$": "the conditions are a JSON object"}
    assert not matches(["categories"], FACTS)  # type: ignore[arg-type]
