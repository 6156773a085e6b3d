"""``/api/v1/playbooks`` on both databases: who may do what (reporter, analyst, lead), import
with 201 / 200 / 422 (every problem in the envelope's fields, by JSON path) / 409 / 415, hostile
bodies answered with clear errors and never a 500, the paginated and filtered list, and the
document served byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playbooks.models import Playbook
from tests.kit.api import bearer, envelope
from tests.playbooks.cacao_kit import document, sid, text

PUBLISHED = Path(__file__).resolve().parent.parent / "data" / "cacao" / "published"
URL = "/api/v1/playbooks"
JSON = "application/json"


def post(client: FlaskClient, token: str, body: bytes | str, mimetype: str = JSON):  # type: ignore[no-untyped-def]
    return client.post(URL, data=body, content_type=mimetype, headers=bearer(token))


def test_import_list_and_read(
    client: FlaskClient, db_session: Session, reporter_token: str, analyst_token: str,
    lead_token: str,
) -> None:  # fmt: skip
    first = document(name="Hameçonnage — campagne", modified="2026-11-01T08:00:00.000Z")
    envelope(post(client, reporter_token, text(first)), 403, "forbidden")
    envelope(post(client, analyst_token, text(first)), 403, "forbidden")
    created = post(client, lead_token, text(first))
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert (out["cacao_id"], out["name"], out["phase"]) == (first["id"], first["name"], "after")
    assert out["version"] == "2026-11-01T08:00:00.000Z" and out["current"] and out["enabled"]
    same = post(client, lead_token, text(first))
    assert same.status_code == 200 and same.get_json()["id"] == out["id"]
    newer = document(pid=first["id"], modified="2026-11-03T08:00:00Z", types=("prevention",))
    assert post(client, lead_token, text(newer)).status_code == 201
    manual = (PUBLISHED / "soarca-manual-playbook.json").read_bytes()
    assert post(client, lead_token, manual).status_code == 201

    envelope(client.get(URL, headers=bearer(reporter_token)), 403, "forbidden")
    assert client.get(URL).status_code == 401
    page = client.get(URL, headers=bearer(analyst_token)).get_json()
    assert page["total"] == 2 and page["next"] is None
    assert [i["name"] for i in page["items"]] == ["Example manual", "Test playbook"]
    every = client.get(f"{URL}?all_versions=true&phase=after", headers=bearer(analyst_token))
    assert [i["version"] for i in every.get_json()["items"]] == ["2026-11-01T08:00:00.000Z"]
    paged = client.get(f"{URL}?limit=1", headers=bearer(lead_token)).get_json()
    assert len(paged["items"]) == 1 and paged["next"] is not None
    assert client.get(f"{URL}?enabled=false", headers=bearer(lead_token)).get_json()["total"] == 0
    bad = envelope(client.get(f"{URL}?phase=during&colour=red", headers=bearer(lead_token)), 422)
    assert set(bad["fields"]) == {"phase", "colour"}

    read = client.get(f"{URL}/{first['id']}", headers=bearer(analyst_token))
    assert read.status_code == 200 and read.mimetype == JSON
    assert read.get_data(as_text=True) == text(newer)
    by_row = client.get(f"{URL}/{out['id']}", headers=bearer(lead_token))
    assert by_row.get_data(as_text=True) == text(first)
    soarca = client.get(f"{URL}/playbook--fe65ef7b-e8b1-4ed9-ba60-3c380ae5ab28",
                        headers=bearer(lead_token))  # fmt: skip
    assert soarca.get_data() == manual
    envelope(client.get(f"{URL}/{out['id']}", headers=bearer(reporter_token)), 403)
    envelope(client.get(f"{URL}/{sid('playbook')}", headers=bearer(lead_token)), 404)
    envelope(client.get(f"{URL}/99999999999999999999999", headers=bearer(lead_token)), 404)


def test_refusals_list_every_problem_and_store_nothing(
    client: FlaskClient, db_session: Session, lead_token: str
) -> None:
    broken = (PUBLISHED / "oasis-basic-example-a-2-1.json").read_bytes()
    error = envelope(post(client, lead_token, broken), 422, "validation_failed")
    act = "$.workflow['action--6398eb05-3eb8-43f5-87d3-f24e07492a41']"
    assert error["fields"]["$.agents"] == "unknown property (did you mean 'agent_definitions'?)"
    assert error["fields"][f"{act}.commands[0].type"] == (
        "Vigie does not run ssh commands: only manual, http-api and x-vigie"
    )
    assert error["fields"][act] == "no end step is reachable from this step"
    assert len(error["fields"]) == 9  # one per problem, each at its own path
    doc = document()
    post(client, lead_token, text(doc))
    conflict = envelope(post(client, lead_token, text({**doc, "name": "Other"})), 409, "conflict")
    assert conflict["fields"] == {"$.modified": "a changed playbook needs a newer 'modified'"}
    envelope(post(client, lead_token, text(doc), "text/plain"), 415)
    hostile = {
        b"[]": "a playbook is a JSON object",
        b'"playbook"': "a playbook is a JSON object",
        b"{": "not JSON",
        b"\xff\xfe": "not UTF-8 text",
        b'{"name": "a\x00"}': "contains a NUL byte",
        b"[" * 200_000: "nested too deeply",
        b" " * (2 * 1024 * 1024 + 1): "larger than",
    }
    for body, message in hostile.items():
        answer = post(client, lead_token, body)
        assert answer.status_code in (413, 422), (body[:20], answer.status_code)
        if answer.status_code == 422:
            assert message in envelope(answer, 422)["fields"]["$"]
    nul = document(name="evil\u0000name")
    fields = envelope(post(client, lead_token, json.dumps(nul)), 422)["fields"]
    assert fields == {"$.name": "must not contain NUL characters (\\u0000)"}
    unicode = document(name="خطة الاستجابة ✓ \U0001f512", description="\u202e reversed")
    assert post(client, lead_token, text(unicode).encode("utf-8")).status_code == 201
    assert db_session.scalar(select(func.count()).select_from(Playbook)) == 2
