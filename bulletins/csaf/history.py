"""CSAF 2.0 §6.1 tests of ``/document/tracking`` (pure): 6.1.14 sorted revision history,
6.1.16 latest version, 6.1.17 draft status, 6.1.18 released history, 6.1.19 pre-release items,
6.1.20 non-draft version, 6.1.21 missing item, 6.1.22 an item twice, 6.1.30 mixed versioning."""

from __future__ import annotations

from typing import Any

from bulletins.csaf.shapes import Problem, as_dict, as_list
from bulletins.csaf.versions import (
    date_key,
    is_integer,
    is_semver,
    major,
    number_key,
    prerelease,
    without_build,
)

BASE = "/document/tracking"
Item = tuple[int, dict[str, Any]]  # (index in the revision history, the item)


def revisions(doc: dict[str, Any]) -> list[Problem]:
    """6.1.14, 6.1.16–6.1.22, 6.1.30."""
    tracking = as_dict(as_dict(doc.get("document")).get("tracking"))
    status = tracking.get("status")
    version = str(tracking.get("version", ""))
    history = [(i, as_dict(it)) for i, it in enumerate(as_list(tracking.get("revision_history")))]
    everything = [version, *(str(item.get("number", "")) for _, item in history)]
    if any(map(is_integer, everything)) and any(map(is_semver, everything)):
        return [Problem("6.1.30", f"{BASE}/version", "integer and semantic versioning are mixed")]
    by_date = sorted(history, key=lambda p: date_key(p[1].get("date")))
    return [
        *_sorted(by_date),
        *_latest(history, version, status),
        *_version(version, status),
        *_items(history, status),
        *_missing(by_date),
    ]


def _sorted(by_date: list[Item]) -> list[Problem]:
    for (_, previous), (i, item) in zip(by_date, by_date[1:], strict=False):
        if number_key(item.get("number")) < number_key(previous.get("number")):
            message = "the revision history is not sorted by date and number alike"
            return [Problem("6.1.14", f"{BASE}/revision_history/{i}/number", message)]
    return []


def _latest(history: list[Item], version: str, status: Any) -> list[Problem]:
    if not history:
        return []
    _, latest = max(
        history, key=lambda p: (date_key(p[1].get("date")), number_key(p[1].get("number")))
    )
    last, current = without_build(str(latest.get("number"))), without_build(version)
    if status == "draft":
        last, current = last.split("-")[0], current.split("-")[0]
    if last == current:
        return []
    message = f"the version {version} is not the latest revision's number ({latest.get('number')})"
    return [Problem("6.1.16", f"{BASE}/version", message)]


def _version(version: str, status: Any) -> list[Problem]:
    out = []
    if (major(version) == 0 or prerelease(version)) and status != "draft":
        message = f"version {version} is a pre-release: the status must be draft"
        out.append(Problem("6.1.17", f"{BASE}/status", message))
    if status in ("final", "interim") and prerelease(version):
        message = f"a {status} document has no pre-release version"
        out.append(Problem("6.1.20", f"{BASE}/version", message))
    return out


def _items(history: list[Item], status: Any) -> list[Problem]:
    out = []
    seen: set[str] = set()
    for i, item in history:
        number = str(item.get("number", ""))
        path = f"{BASE}/revision_history/{i}/number"
        if status in ("final", "interim") and major(number) == 0:
            out.append(Problem("6.1.18", path, f"a {status} document lists draft version {number}"))
        if prerelease(number):
            out.append(Problem("6.1.19", path, f"revision {number} is a pre-release"))
        if number in seen:
            out.append(Problem("6.1.22", path, f"revision {number} is listed twice"))
        seen.add(number)
    return out


def _missing(by_date: list[Item]) -> list[Problem]:
    out = []
    majors = [major(str(item.get("number"))) for _, item in by_date]
    if majors and majors[0] not in (0, 1):
        path = f"{BASE}/revision_history/{by_date[0][0]}/number"
        out.append(Problem("6.1.21", path, "the first revision must be number 0 or 1"))
    for (i, _), previous, current in zip(by_date[1:], majors, majors[1:], strict=False):
        if current - previous > 1:
            message = f"the revision history skips from {previous} to {current}"
            out.append(Problem("6.1.21", f"{BASE}/revision_history/{i}/number", message))
    return out
