"""Conditions of if/while steps (pure): the STIX-patterning style CACAO tools write."""

from __future__ import annotations

import pytest

from playbooks.rules.conditions import ConditionError, evaluate, parse_condition

VARIABLES = {
    "__whileStepVariable__": "7",
    "__ifStepVariable__": "true",
    "__off__": "false",
    "__empty__": "",
    "__count__": 12,
    "__name__": "ransomware-2026",
    "__kind__": "phishing",
    "__quote__": "it's",
    "__flag__": True,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__whileStepVariable__:value <= 10", True),  # SOARCA's loop condition
        ("__whileStepVariable__:value > 10", False),
        ("__ifStepVariable__:value", True),  # a bare reference: its truthiness
        ("__off__:value", False),
        ("__empty__:value", False),
        ("NOT __off__:value", True),
        ("__count__:value = 12", True),
        ("__count__:value > 9", True),  # numbers, not text: "12" < "9" as text
        ("__whileStepVariable__:value = 7.0", True),
        ("__name__:value = 'ransomware-2026'", True),
        ("__name__:value != 'ransomware-2026'", False),
        ("__name__:value LIKE 'ransom%'", True),
        ("__name__:value LIKE 'ransom_are%'", True),
        ("__name__:value NOT LIKE 'ransom%'", False),
        ("__kind__:value IN ('phishing', 'ddos')", True),
        ("__kind__:value NOT IN ('phishing', 'ddos')", False),
        ("__kind__:value in ('ddos')", False),
        ("__quote__:value = 'it\\'s'", True),
        ("__flag__:value = true", True),
        ("$$count$$ >= 12", True),  # CACAO 1.x references
        ("__count__ >= 12", True),  # a name without :value
        ("(__count__:value < 5 OR __kind__:value = 'phishing') AND NOT __off__:value", True),
        ("__count__:value < 5 OR __kind__:value = 'x' AND true", False),  # AND binds tighter
        ("[__kind__:value = 'phishing']", True),  # STIX pattern brackets
        ("true and false or true", True),
        ("'abc' < 'abd'", True),
    ],
)
def test_conditions_evaluate(text: str, expected: bool) -> None:
    assert evaluate(parse_condition(text), VARIABLES) is expected


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty"),
        ("__a__:value =", 13, "expected a value"),
        ("__a__:value = 'open", 14, "unterminated string"),
        ("(__a__:value = 1", 16, "expected ')'"),
        ("__a__:value = 1 __b__:value", 16, "unexpected '__b__'"),
        ("__a__:value ~ 1", 12, "unexpected character '~'"),
        ("__a__:value = bogus", 14, "unknown word 'bogus'"),
        ("__a__:value IN 'x'", 15, "expected '(' after IN"),
        ("__a__:value LIKE 5", 17, "expected a quoted pattern"),
    ],
)
def test_bad_conditions_are_refused_with_their_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"position {position}: ")


def test_an_unknown_variable_is_an_error_at_evaluation() -> None:
    condition = parse_condition("__known__:value = 1 AND __unknown__:value = 2")
    with pytest.raises(ConditionError, match="unknown variable __unknown__") as caught:
        evaluate(condition, {"__known__": 1})
    assert caught.value.position == 24
    assert evaluate(condition, {"__known__": 2}) is False  # AND stops at the first false
