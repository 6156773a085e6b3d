"""CVSS checks of CSAF 2.0 §6.1.8–6.1.10 (pure): severities that match the scores, v3 base and
temporal scores computed from the vector (CVSS v3.0/v3.1 specification §7), and the object's
properties matching its vector string."""

from __future__ import annotations

import math
from typing import Any

Finding = tuple[str, str, str]  # (test, path below the CVSS object, message)

V3_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": (
        "attackVector",
        {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"},
    ),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "R": "REQUIRED"}),
    "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
    "C": ("confidentialityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "I": ("integrityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "A": ("availabilityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "E": (
        "exploitCodeMaturity",
        {
            "X": "NOT_DEFINED",
            "U": "UNPROVEN",
            "P": "PROOF_OF_CONCEPT",
            "F": "FUNCTIONAL",
            "H": "HIGH",
        },
    ),
    "RL": (
        "remediationLevel",
        {
            "X": "NOT_DEFINED",
            "O": "OFFICIAL_FIX",
            "T": "TEMPORARY_FIX",
            "W": "WORKAROUND",
            "U": "UNAVAILABLE",
        },
    ),
    "RC": (
        "reportConfidence",
        {"X": "NOT_DEFINED", "U": "UNKNOWN", "R": "REASONABLE", "C": "CONFIRMED"},
    ),
    "CR": (
        "confidentialityRequirement",
        {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"},
    ),
    "IR": ("integrityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "AR": ("availabilityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
}
V2_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("accessVector", {"L": "LOCAL", "A": "ADJACENT_NETWORK", "N": "NETWORK"}),
    "AC": ("accessComplexity", {"H": "HIGH", "M": "MEDIUM", "L": "LOW"}),
    "Au": ("authentication", {"M": "MULTIPLE", "S": "SINGLE", "N": "NONE"}),
    "C": ("confidentialityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "I": ("integrityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "A": ("availabilityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
}
WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "CIA": {"H": 0.56, "L": 0.22, "N": 0.0},
    "E": {"X": 1.0, "U": 0.91, "P": 0.94, "F": 0.97, "H": 1.0},
    "RL": {"X": 1.0, "O": 0.95, "T": 0.96, "W": 0.97, "U": 1.0},
    "RC": {"X": 1.0, "U": 0.92, "R": 0.96, "C": 1.0},
}


def severity(score: float) -> str:
    if score == 0:
        return "NONE"
    if score < 4:
        return "LOW"
    if score < 7:
        return "MEDIUM"
    return "HIGH" if score < 9 else "CRITICAL"


def metrics(vector: str) -> dict[str, str]:
    """``CVSS:3.1/AV:N/AC:L/…`` → ``{"AV": "N", "AC": "L", …}`` (v2 vectors too)."""
    out: dict[str, str] = {}
    for part in vector.strip("()").split("/"):
        key, _, value = part.partition(":")
        if key != "CVSS" and value:
            out[key] = value
    return out


def _roundup(value: float, version: str) -> float:
    if version == "3.0":
        return math.ceil(value * 10) / 10
    whole = round(value * 100_000)
    return whole / 100_000 if whole % 10_000 == 0 else (math.floor(whole / 10_000) + 1) / 10


def base_score(m: dict[str, str], version: str) -> float | None:
    """The CVSS v3.x base score of the metrics ``m``; None when a base metric is missing."""
    try:
        changed = m["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[m["PR"]]
        iss = 1 - math.prod(1 - WEIGHTS["CIA"][m[k]] for k in ("C", "I", "A"))
        exploitability = (
            8.22 * WEIGHTS["AV"][m["AV"]] * WEIGHTS["AC"][m["AC"]] * pr * (WEIGHTS["UI"][m["UI"]])
        )
    except KeyError:
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10), version)


def temporal_score(base: float, m: dict[str, str], version: str) -> float:
    factor = math.prod(WEIGHTS[k][m.get(k, "X")] for k in ("E", "RL", "RC"))
    return _roundup(base * factor, version)


def problems(kind: str, data: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    vector = str(data.get("vectorString", ""))
    found = metrics(vector)
    table = V3_METRICS if kind == "cvss_v3" else V2_METRICS
    for key, (prop, values) in table.items():
        if prop in data and key in found and values.get(found[key]) != data[prop]:
            message = f"{prop} is {data[prop]} but the vector says {key}:{found[key]}"
            out.append(("6.1.10", f"/{prop}", message))
    if kind == "cvss_v3":
        out.extend(_severities(data, vector))
        out.extend(_computed(data, found))
    return out


def _severities(data: dict[str, Any], vector: str) -> list[Finding]:
    out: list[Finding] = []
    version = str(data.get("version", ""))
    if vector and not vector.startswith(f"CVSS:{version}/"):
        out.append(("6.1.8", "/vectorString", f"the vector is not a CVSS {version} vector"))
    for prefix in ("base", "temporal", "environmental"):
        score, given = data.get(f"{prefix}Score"), data.get(f"{prefix}Severity")
        if isinstance(score, int | float) and given is not None and given != severity(score):
            message = f"{prefix}Severity {given} does not match the score {score}"
            out.append(("6.1.8", f"/{prefix}Severity", f"{message} ({severity(score)})"))
    return out


def _computed(data: dict[str, Any], found: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    version = str(data.get("version", ""))
    computed = base_score(found, version) if version in ("3.0", "3.1") else None
    given = data.get("baseScore")
    if computed is None or not isinstance(given, int | float):
        return out
    if abs(computed - float(given)) > 0.05:
        message = f"the base score {given} is not {computed}, computed from the vector"
        out.append(("6.1.9", "/baseScore", message))
    temporal = data.get("temporalScore")
    expected = temporal_score(computed, found, version)
    if isinstance(temporal, int | float) and abs(expected - float(temporal)) > 0.05:
        message = f"the temporal score {temporal} is not {expected}, computed from the vector"
        out.append(("6.1.9", "/temporalScore", message))
    return out
