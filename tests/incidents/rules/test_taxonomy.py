from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidents.rules.taxonomy import (
    UnknownClassification,
    machine_tag,
    rsit_classes,
    validate_classification,
)

SHARED = Path(__file__).resolve().parents[4] / "shared" / "reference" / "rsit.json"


def test_eleven_classes_and_thirty_nine_types() -> None:
    classes = rsit_classes()
    assert len(classes) == 11
    assert sum(len(c.types) for c in classes.values()) == 39
    assert classes["intrusion-attempts"].type("ids-alert") is not None
    assert classes["fraud"].type("unauthorised-use-of-resources") is not None  # British spelling


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference not beside the checkout")
def test_shipped_copy_matches_the_reference() -> None:
    shipped = Path(__file__).resolve().parents[3] / "incidents" / "data" / "rsit.json"
    assert json.loads(shipped.read_text()) == json.loads(SHARED.read_text())


def test_valid_pairs() -> None:
    assert validate_classification("malicious-code", "infected-system") == (
        "malicious-code",
        "infected-system",
    )
    assert validate_classification("fraud", None) == ("fraud", None)


def test_unknown_class_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownClassification) as err:
        validate_classification("malware", "infected-system")
    assert err.value.field == "category"
    assert "valid classes: abusive-content, malicious-code" in str(err.value)


def test_type_must_belong_to_its_class() -> None:
    with pytest.raises(UnknownClassification) as err:
        validate_classification("fraud", "ddos")
    assert err.value.field == "type"
    assert "valid types: unauthorised-use-of-resources, copyright, masquerade, phishing" in str(
        err.value
    )


def test_machine_tag() -> None:
    assert (
        machine_tag("malicious-code", "infected-system") == 'rsit:malicious-code="infected-system"'
    )
