"""The CSAF 2.0 §6.1 mandatory tests (bulletins/csaf/checks.py) catch what they must: each
test breaks a real, valid advisory (BSI-2022-0001) in one way and expects that test's id at that
JSON path; real vendor advisories pass them all."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from bulletins.csaf import checks
from bulletins.csaf.cvss import base_score, metrics
from tests.bulletins.csaf_oasis import VENDORS, oasis_problems

Doc = dict[str, Any]


def bsi() -> Doc:
    doc: Doc = json.loads((VENDORS / "bsi-2022-0001.json").read_text("utf-8"))
    return doc


def found(doc: Doc) -> set[tuple[str, str]]:
    return {(p.test, p.path) for p in checks.problems(doc)}


@pytest.mark.parametrize(
    "name", ["bsi-2022-0001.json", "rhsa-2021_5217.json", "2022-evd-uc-01-f-001.json"]
)
def test_real_advisories_pass(name: str) -> None:
    doc = json.loads((VENDORS / name).read_text("utf-8"))
    assert oasis_problems(doc) == [] and checks.problems(doc) == []


V0 = "/vulnerabilities/0"
TREE = "/product_tree/branches/0/branches/0/branches"
HIST = "/document/tracking/revision_history"


def _vuln(doc: Doc) -> Doc:
    vuln: Doc = doc["vulnerabilities"][0]
    return vuln


def _history(doc: Doc, *numbers: str, version: str | None = None, status: str = "final") -> None:
    tracking = doc["document"]["tracking"]
    tracking["revision_history"] = [
        {"date": f"2022-03-{17 + i:02d}T10:00:00Z", "number": n, "summary": f"r{n}"}
        for i, n in enumerate(numbers)
    ]
    tracking["version"] = version if version is not None else numbers[-1]
    tracking["status"] = status


def _relationship(doc: Doc, pid: str, ref: str, to: str) -> None:
    doc["product_tree"].setdefault("relationships", []).append(
        {"category": "installed_on", "product_reference": ref, "relates_to_product_reference": to,
         "full_product_name": {"name": pid, "product_id": pid}}
    )  # fmt: skip


def _groups(doc: Doc, *gids: str) -> None:
    doc["product_tree"]["product_groups"] = [
        {"group_id": g, "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]} for g in gids
    ]


def _hashes(doc: Doc) -> None:
    product = doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
    digest = {"algorithm": "sha256", "value": "a" * 64}
    product["product_identification_helper"]["hashes"] = [
        {"filename": "c.jar", "file_hashes": [digest, dict(digest)]}
    ]


CASES: dict[str, tuple[Callable[[Doc], None], str]] = {
    "6.1.1": (lambda d: _vuln(d)["product_status"]["known_affected"].append("CSAFPID-9999"),
              f"{V0}/product_status/known_affected/5"),
    "6.1.2": (lambda d: d["product_tree"].update(full_product_names=[
        {"name": "again", "product_id": "CSAFPID-0001"}]),
        "/product_tree/full_product_names/0/product_id"),
    "6.1.3": (lambda d: _relationship(d, "CSAFPID-0100", "CSAFPID-0100", "CSAFPID-0001"),
              "/product_tree/relationships/0"),
    "6.1.4": (lambda d: _vuln(d)["remediations"][0].update(group_ids=["CSAFGID-0404"]),
              f"{V0}/remediations/0/group_ids/0"),
    "6.1.5": (lambda d: _groups(d, "CSAFGID-1", "CSAFGID-1"),
              "/product_tree/product_groups/1/group_id"),
    "6.1.6": (lambda d: _vuln(d)["product_status"].update(known_not_affected=["CSAFPID-0001"]),
              f"{V0}/product_status/known_not_affected/0"),
    "6.1.7": (lambda d: _vuln(d)["scores"].append(copy.deepcopy(_vuln(d)["scores"][0])),
              f"{V0}/scores/1/products/0"),
    "6.1.8": (lambda d: _vuln(d)["scores"][0]["cvss_v3"].update(baseSeverity="CRITICAL"),
              f"{V0}/scores/0/cvss_v3/baseSeverity"),
    "6.1.9": (lambda d: _vuln(d)["scores"][0]["cvss_v3"].update(baseScore=7.7,
                                                                baseSeverity="HIGH"),
              f"{V0}/scores/0/cvss_v3/baseScore"),
    "6.1.10": (lambda d: _vuln(d)["scores"][0]["cvss_v3"].update(attackVector="NETWORK"),
               f"{V0}/scores/0/cvss_v3/attackVector"),
    "6.1.11": (lambda d: _vuln(d)["cwe"].update(name=" "), f"{V0}/cwe"),
    "6.1.14": (lambda d: _history(d, "2", "1", version="2"), f"{HIST}/1/number"),
    "6.1.15": (lambda d: d["document"]["publisher"].update(category="translator"),
               "/document/source_lang"),
    "6.1.16": (lambda d: _history(d, "1", "2", version="1"), "/document/tracking/version"),
    "6.1.17": (lambda d: _history(d, "0"), "/document/tracking/status"),
    "6.1.18": (lambda d: _history(d, "0", "1"), f"{HIST}/0/number"),
    "6.1.19": (lambda d: _history(d, "1.0.0-rc.1", "1.0.0"), f"{HIST}/0/number"),
    "6.1.20": (lambda d: _history(d, "1.0.0", version="1.0.0-rc.2"),
               "/document/tracking/version"),
    "6.1.21": (lambda d: _history(d, "1", "3"), f"{HIST}/1/number"),
    "6.1.22": (lambda d: _history(d, "1", "1"), f"{HIST}/1/number"),
    "6.1.23": (lambda d: d["vulnerabilities"].append(copy.deepcopy(_vuln(d))),
               "/vulnerabilities/1/cve"),
    "6.1.24": (lambda d: _vuln(d).update(involvements=[
        {"party": "vendor", "status": "completed", "date": "2022-03-01T00:00:00Z"}] * 2),
        f"{V0}/involvements/1"),
    "6.1.25": (_hashes, f"{TREE}/0/product/product_identification_helper/hashes/0/"
                        "file_hashes/1/algorithm"),
    "6.1.26": (lambda d: d["document"].update(category="Security Advisory"),
               "/document/category"),
    "6.1.27.1": (lambda d: d["document"].update(category="csaf_informational_advisory",
                                                references=[{"url": "https://x.example/",
                                                             "summary": "x"}]),
                 "/document/notes"),
    "6.1.27.2": (lambda d: d["document"].update(category="csaf_security_incident_response",
                                                notes=[{"category": "summary", "text": "t"}]),
                 "/document/references"),
    "6.1.27.3": (lambda d: d["document"].update(category="csaf_informational_advisory"),
                 "/vulnerabilities"),
    "6.1.27.4": (lambda d: d.pop("product_tree"), "/product_tree"),
    "6.1.27.5": (lambda d: _vuln(d).pop("notes"), f"{V0}/notes"),
    "6.1.27.6": (lambda d: _vuln(d).pop("product_status"), f"{V0}/product_status"),
    "6.1.27.7": (lambda d: (d["document"].update(category="csaf_vex"),
                            _vuln(d).update(product_status={"first_fixed": ["CSAFPID-0006"]})),
                 f"{V0}/product_status"),
    "6.1.27.8": (lambda d: (d["document"].update(category="csaf_vex"), _vuln(d).pop("cve"),
                            _vuln(d).pop("ids")), V0),
    "6.1.27.9": (lambda d: (d["document"].update(category="csaf_vex"),
                            _vuln(d)["product_status"].update(known_not_affected=["CSAFPID-0006"],
                                                              first_fixed=[], fixed=[])),
                 f"{V0}/product_status/known_not_affected/0"),
    "6.1.27.10": (lambda d: (d["document"].update(category="csaf_vex"),
                             _vuln(d)["remediations"][0]["product_ids"].pop()),
                  f"{V0}/product_status/known_affected/4"),
    "6.1.27.11": (lambda d: d.pop("vulnerabilities"), "/vulnerabilities"),
    "6.1.28": (lambda d: d["document"].update(source_lang="en-US"), "/document/lang"),
    "6.1.29": (lambda d: _vuln(d)["remediations"][0].pop("product_ids"), f"{V0}/remediations/0"),
    "6.1.30": (lambda d: _history(d, "1", "1.1.0", version="1.1.0"),
               "/document/tracking/version"),
    "6.1.31": (lambda d: d["product_tree"]["branches"][0]["branches"][0]["branches"][0].update(
        name="prior to 1.0.0-rc2"), f"{TREE}/0/name"),
    "6.1.32": (lambda d: _vuln(d).update(flags=[{"label": "component_not_present"}]),
               f"{V0}/flags/0"),
    "6.1.33": (lambda d: _vuln(d).update(flags=[
        {"label": "component_not_present", "product_ids": ["CSAFPID-0006"]},
        {"label": "vulnerable_code_not_present", "product_ids": ["CSAFPID-0006"]}]),
        f"{V0}/flags/1/product_ids/0"),
}  # fmt: skip


@pytest.mark.parametrize("test_id", sorted(CASES))
def test_each_check_catches_its_broken_document(test_id: str) -> None:
    doc = bsi()
    breaks, path = CASES[test_id]
    breaks(doc)
    assert (test_id, path) in found(doc), checks.problems(doc)


def test_problems_name_test_path_and_message() -> None:
    doc = bsi()
    _vuln(doc)["product_status"]["known_affected"].append("CSAFPID-9999")
    (problem,) = checks.problems(doc)
    assert problem == ("6.1.1", f"{V0}/product_status/known_affected/5",
                       "product id CSAFPID-9999 is not defined")  # fmt: skip
    assert checks.problems([]) and checks.problems("x")[0].test == "6.1"


def test_cvss_v3_base_scores_are_computed_as_first_does() -> None:
    vectors = {
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10.0,
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N": 6.5,
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:L": 6.1,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
        "CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N": 0.0,
    }
    for vector, score in vectors.items():
        assert base_score(metrics(vector), vector[5:8]) == score, vector
