"""Files sent with the reporter's answer on /track (issue 17), through the real pages and API on
both backends: the report form's rules (size limit, sniffed type, SHA-256 storage, always a
download), the link to the answer seen by the analysts and by the reporter, errors in the page's
language naming the file, and nothing half-written when the answer fails."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cert.app import create_app
from core.clock import FrozenClock
from incidents.intake.attachments import add_attachment
from incidents.models import Attachment, Incident, IncidentEvent, IncidentObservable
from tests.incidents.file_helpers import token
from tests.kit.api import BOUNDARY, URL, bearer, multipart
from tests.kit.factories import INFECTED_HOST, SETTINGS, report
from tests.kit.web import logout, sign_in, text
from tests.kit.world import World

LOG = b"Connexion suspecte depuis 203.0.113.77 vers c2-answer.example\n"


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, world: World) -> Incident:
    return report(db_session, clock, world.reporter, INFECTED_HOST)


def answer(
    client: FlaskClient,
    incident: Incident,
    body: str,
    files: list[tuple[bytes, str]] = (),  # type: ignore[assignment]
    *,
    lang: str = "fr",
) -> TestResponse:
    data: dict[str, Any] = {"answer-body": body, "answer-csrf_token": token(client)}
    data["answer-files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(
        f"/track/{incident.reference}/answer?lang={lang}",
        data=data,
        content_type="multipart/form-data",
    )


def plain(response: TestResponse) -> str:
    """The page's text with its narrow and non-breaking spaces as plain ones."""
    return text(response).replace("\xa0", " ").replace("\u202f", " ")


def stored_files(settings: dict[str, Any]) -> list[Path]:
    root = Path(settings["upload_dir"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def counts(db_session: Session, incident: Incident) -> tuple[int, int]:
    answers = db_session.scalar(
        select(func.count())
        .select_from(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "reporter_reply")
    )
    files = db_session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.incident_id == incident.id)
    )
    return answers or 0, files or 0


def test_an_answer_carries_its_files_to_the_analysts_and_back(
    client: FlaskClient,
    db_session: Session,
    world: World,
    incident: Incident,
    settings: dict[str, Any],
) -> None:
    sign_in(client, world.reporter)
    response = answer(
        client, incident, "Voici le journal.", [(LOG, "journal.txt"), (b"%PDF-1.4 x", "r.pdf")]
    )
    assert response.status_code == 302, text(response)[:500]
    event = db_session.scalars(
        select(IncidentEvent).where(IncidentEvent.kind == "reporter_reply")
    ).one()
    rows = db_session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(a.filename, a.content_type, a.event_id) for a in rows] == [
        ("journal.txt", "text/plain", event.id),
        ("r.pdf", "application/pdf", event.id),
    ]
    assert [a["filename"] for a in event.data["attachments"]] == ["journal.txt", "r.pdf"]
    sha = hashlib.sha256(LOG).hexdigest()
    assert rows[0].sha256 == sha
    assert (Path(settings["upload_dir"]) / sha[:2] / sha).read_bytes() == LOG
    # the same rules as the report form: a text file is mined for indicators
    values = set(db_session.scalars(select(IncidentObservable.value)))
    assert {"203.0.113.77", "c2-answer.example"} <= values

    page = text(client.get(f"/track/{incident.reference}"))
    link = f"/incidents/{incident.reference}/attachments/{rows[0].id}"
    assert page.count(link) == 2  # under the answer and in the file list
    download = client.get(link)
    assert download.status_code == 200 and download.get_data() == LOG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/octet-stream"
    download.close()

    logout(client)
    sign_in(client, world.analyst)
    file_page = text(client.get(f"/incidents/{incident.reference}"))
    assert file_page.count(link) == 2  # the answer in the timeline and the attachments table
    assert f'href="#event-{event.id}"' in file_page


def test_a_file_over_the_limit_keeps_nothing_and_names_the_file(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    world: World,
    incident: Incident,
    settings: dict[str, Any],
) -> None:
    app.extensions["incidents"] = replace(app.extensions["incidents"], max_upload_bytes=1000)
    sign_in(client, world.reporter)
    before = stored_files(settings)
    # the first file is fine and stored on the way; the second is too big: both are undone
    response = answer(
        client, incident, "Deux fichiers", [(LOG, "ok.txt"), (b"Z" * 1001, "gros.bin")]
    )
    assert response.status_code == 422
    page = plain(response)
    assert "« gros.bin » dépasse 1 000 o." in page
    assert "Deux fichiers" in page  # the message is kept for the next try
    assert counts(db_session, incident) == (0, 0)
    assert stored_files(settings) == before
    assert db_session.scalar(select(func.count()).select_from(IncidentObservable)) == len(
        incident.observables
    )


def test_an_empty_file_is_refused_in_the_page_language(
    client: FlaskClient, db_session: Session, world: World, incident: Incident
) -> None:
    sign_in(client, world.reporter)
    response = answer(client, incident, "Fichier vide", [(b"", "vide.txt")], lang="ar")
    assert response.status_code == 422
    assert "«vide.txt» فارغ." in plain(response)
    assert counts(db_session, incident) == (0, 0)


def test_too_many_files_are_refused(
    client: FlaskClient, db_session: Session, world: World, incident: Incident
) -> None:
    sign_in(client, world.reporter)
    files = [(f"ligne {i}\n".encode(), f"f{i}.txt") for i in range(11)]
    response = answer(client, incident, "Onze fichiers", files)
    assert response.status_code == 422
    assert "Au plus 10 fichiers par message." in plain(response)
    assert counts(db_session, incident) == (0, 0)


def test_a_request_over_the_upload_limit_is_said_on_the_form(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
    world: World,
    incident: Incident,
) -> None:
    app = create_app({**settings, "max_upload_mb": 1}, session_factory=session_factory, clock=clock)
    client = app.test_client()
    sign_in(client, world.reporter)
    body = multipart(b"A" * (1024 * 1024 + 1), "gros.bin", field="answer-files")
    response = client.post(  # built in memory: the client's encoder would leave a temp file open
        f"/track/{incident.reference}/answer",
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 413
    assert "Les fichiers dépassent 1 Mo au total." in plain(response)
    assert counts(db_session, incident) == (0, 0)
    assert stored_files(settings) == []


def test_an_empty_message_with_a_file_keeps_nothing(
    client: FlaskClient,
    db_session: Session,
    world: World,
    incident: Incident,
    settings: dict[str, Any],
) -> None:
    sign_in(client, world.reporter)
    response = answer(client, incident, "   ", [(LOG, "journal.txt")])
    assert response.status_code == 422
    assert counts(db_session, incident) == (0, 0)
    assert stored_files(settings) == []


def test_another_organisation_cannot_answer_nor_download(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    world: World,
    incident: Incident,
    settings: dict[str, Any],
) -> None:
    sign_in(client, world.reporter)
    assert answer(client, incident, "Le mien", [(LOG, "journal.txt")]).status_code == 302
    mine = db_session.scalars(select(Attachment)).one()
    staff_file = add_attachment(
        db_session, world.actor(world.analyst), incident, filename="echantillon-cert.bin",
        stream=io.BytesIO(b"\x7fELF internal sample"), clock=clock,
        upload_dir=Path(settings["upload_dir"]), max_bytes=SETTINGS.max_upload_bytes,
    )  # fmt: skip
    db_session.flush()
    # the reporter reads their own files, never the CERT's
    page = text(client.get(f"/track/{incident.reference}"))
    assert "echantillon-cert.bin" not in page
    assert (
        client.get(f"/incidents/{incident.reference}/attachments/{staff_file.id}").status_code
        == 404
    )
    logout(client)
    sign_in(client, world.other_reporter)
    files_before = stored_files(settings)
    assert answer(client, incident, "Intrus", [(b"other bytes", "x.txt")]).status_code == 404
    assert stored_files(settings) == files_before
    assert client.get(f"/incidents/{incident.reference}/attachments/{mine.id}").status_code == 404
    assert counts(db_session, incident) == (1, 2)


def upload(client: FlaskClient, reference: str, token_: str, content: bytes, name: str) -> int:
    response = client.post(
        f"{URL}/{reference}/attachments",
        data=multipart(content, name),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=bearer(token_),
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_the_api_links_uploaded_files_to_the_answer(
    client: FlaskClient, db_session: Session, world: World, incident: Incident
) -> None:
    mine, other = world.token(world.reporter), world.token(world.analyst)
    first = upload(client, incident.reference, mine, LOG, "journal.txt")
    staff_file = upload(client, incident.reference, other, b"cert sample", "cert.bin")
    replies = f"{URL}/{incident.reference}/replies"

    def post(token_: str, body: dict[str, Any]) -> TestResponse:
        return client.post(replies, json=body, headers=bearer(token_))

    # a file that is not the reporter's own, or an unknown id: 422, nothing written
    refused = post(mine, {"body": "Voici", "attachments": [first, staff_file, 999_999]})
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"attachments"}
    assert counts(db_session, incident)[0] == 0
    too_big = post(mine, {"body": "Voici", "attachments": [2**40]})  # past an INTEGER key
    assert too_big.status_code == 422, too_big.get_json()
    sent = post(mine, {"body": "Voici le journal", "attachments": [first]})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["data"]["attachments"] == [
        {"id": first, "filename": "journal.txt", "size": len(LOG)}
    ]
    assert db_session.get(Attachment, first).event_id == sent.get_json()["id"]  # type: ignore[union-attr]
    # once sent, a file is not sent again; staff replies carry no files
    assert post(mine, {"body": "Encore", "attachments": [first]}).status_code == 422
    assert post(other, {"body": "Merci", "attachments": [staff_file]}).status_code == 422
