"""The playbooks pages: who sees what, the list and its filters, the detail with its graph,
import (every problem listed, bad uploads never a 500), export, enable/disable, runs."""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.errors import NotFound
from core.identity.authz import Actor
from core.identity.models import Organisation, User
from playbooks.library.manage import set_enabled
from playbooks.models import (
    Playbook,
    PlaybookSchedule,
    PlaybookTrigger,
    RunStatus,
    TriggerEvent,
)
from tests.kit.api import BOUNDARY, multipart
from tests.kit.factories import report
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World
from tests.playbooks.cacao_kit import document
from tests.playbooks.cacao_kit import text as doc_text
from tests.playbooks.graph_kit import every_step_type
from tests.playbooks.pages_kit import playbook, run


def _multipart(token: str, content: bytes) -> bytes:
    """The import form's body built in memory (the test client spools large bodies to
    temporary files it never closes)."""
    csrf = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
    return csrf.encode() + multipart(content, "x.json", field="document")


def _post(client: FlaskClient, url: str, page: str, **data: object) -> object:
    token = csrf_token(text(client.get(page)))
    return client.post(url, data={"csrf_token": token, **data})


def test_reporters_get_no_playbook_page(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    reporter: User,
    interieur: Organisation,
) -> None:
    book = playbook(db_session, clock)
    incident = report(db_session, clock, reporter)
    done = run(db_session, clock, book, incident=incident)
    sign_in(client, reporter)
    for url in ("/playbooks", f"/playbooks/{book.id}", f"/playbooks/{book.id}/export",
                "/playbooks/import", "/playbooks/runs", f"/playbooks/runs/{done.id}"):  # fmt: skip
        assert client.get(url).status_code in (403, 404), url
    token = csrf_token(text(client.get("/account")))
    for url in (f"/playbooks/{book.id}/disable", "/playbooks/import",
                f"/playbooks/runs/{done.id}/cancel",
                f"/incidents/{incident.reference}/playbooks"):  # fmt: skip
        assert client.post(url, data={"csrf_token": token}).status_code in (403, 404), url
    assert db_session.get(Playbook, book.id).enabled
    assert "/playbooks" not in text(client.get("/"))  # no nav entry


def test_the_list_filters_counts_runs_in_one_query_and_pages(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, reporter: User
) -> None:
    after = playbook(db_session, clock)
    before = playbook(db_session, clock, types=("prevention",))
    db_session.get(Playbook, before.id).enabled = False
    incident = report(db_session, clock, reporter)
    for n in range(3):
        run(db_session, clock, after, incident=incident, key=f"k{n}")
    for _n in range(55):
        playbook(db_session, clock, types=("detection",))
    db_session.flush()
    sign_in(client, analyst)
    statements: list[str] = []
    engine = db_session.get_bind()
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        page = text(client.get("/playbooks?phase=after"))
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert f'href="/playbooks/{after.id}"' in page and f'/playbooks/{before.id}"' not in page
    assert f'/playbooks/runs?playbook={after.id}">3<' in page
    assert sum("playbook_runs" in s for s in statements) == 1  # one grouped count, no N+1
    disabled = text(client.get("/playbooks?enabled=no"))
    assert f'/playbooks/{before.id}"' in disabled and f'/playbooks/{after.id}"' not in disabled
    first, second = text(client.get("/playbooks")), text(client.get("/playbooks?page=2"))
    assert first.count('href="/playbooks/') - first.count('href="/playbooks/runs') >= 50
    assert "?page=2" in first and second.count("<tr>") == 57 - 50 + 1
    assert client.get("/playbooks?page=x").status_code == 422


def test_the_detail_shows_graph_steps_versions_triggers_and_schedules(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User
) -> None:
    doc, ids = every_step_type()
    doc["name"] = "Rançongiciel <b>"
    flow = {key: doc[key] for key in ("workflow", "workflow_start", "playbook_variables")}
    first = playbook(db_session, clock, name=doc["name"], **flow)
    newer = playbook(db_session, clock, pid=first.cacao_id, modified="2026-11-05T08:00:00Z",
                     name="V2", **flow)  # fmt: skip
    now = clock.now()
    db_session.add_all([
        PlaybookTrigger(cacao_id=first.cacao_id, event=TriggerEvent.CLASSIFIED, created_at=now,
                        conditions={"categories": ["malicious-code"], "min_priority": "P2"}),
        PlaybookSchedule(cacao_id=first.cacao_id, cron="0 7 * * 1", timezone="Africa/Casablanca",
                         organisation_ids=[1, 2], enabled=False, created_at=now),
    ])  # fmt: skip
    db_session.flush()
    sign_in(client, analyst)
    page = text(client.get(f"/playbooks/{newer.id}"))
    assert "Incident qualifié" in page and "<bdi>malicious-code</bdi>" in page
    assert '<code dir="ltr">0 7 * * 1</code>' in page and "2 organisations" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="pb-graph"' in page
    assert page.count('class="pb-node ') == len(doc["workflow"])
    assert "Isolate hosts" in page and "manual: Do: Isolate hosts" in page
    assert f"/playbooks/{first.id}/export" in page and f"/playbooks/{newer.id}/export" in page
    bare = text(client.get(f"/playbooks/{playbook(db_session, clock).id}"))
    assert "Aucun déclencheur" in bare and "Aucune planification" in bare
    assert 'action="/playbooks/' not in page  # an analyst has no enable button
    old = text(client.get(f"/playbooks/{first.id}"))
    assert "Rançongiciel &lt;b&gt;" in old and "Rançongiciel <b>" not in old
    assert client.get("/playbooks/999999").status_code == 404


def test_export_downloads_the_stored_document(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User
) -> None:
    book = playbook(db_session, clock, name='Ph/ish "x"; rm -rf')
    sign_in(client, analyst)
    response = client.get(f"/playbooks/{book.id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data(as_text=True) == book.document
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="Ph-ish-x-rm-rf-20261101T080000Z.json"'


def test_only_leads_enable_and_disable_every_version(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, lead: User
) -> None:
    book = playbook(db_session, clock)
    other = playbook(db_session, clock, pid=book.cacao_id, modified="2026-11-02T08:00:00Z")
    sign_in(client, analyst)
    page = f"/playbooks/{other.id}"
    assert _post(client, f"/playbooks/{other.id}/disable", page).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    sign_in(client, lead)
    response = _post(client, f"/playbooks/{other.id}/disable", page)
    assert response.status_code == 302
    db_session.expire_all()
    versions = db_session.scalars(select(Playbook).where(Playbook.cacao_id == book.cacao_id))
    assert [v.enabled for v in versions] == [False, False]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.object_id == book.cacao_id)
                               .order_by(AuditEntry.id.desc())).first()  # fmt: skip
    assert entry is not None and entry.action == "playbook.disable"
    assert client.post(f"/playbooks/{other.id}/enable").status_code == 400  # no CSRF token
    _post(client, f"/playbooks/{other.id}/enable", page)
    db_session.expire_all()
    assert all(v.enabled for v in db_session.scalars(select(Playbook)))


def test_a_lead_imports_a_file_or_pasted_json(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead: User
) -> None:
    sign_in(client, lead)
    doc = document(name="Phishing")
    token = csrf_token(text(client.get("/playbooks/import")))
    upload = (io.BytesIO(doc_text(doc).encode()), "phishing.json")
    response = client.post("/playbooks/import", data={"csrf_token": token, "document": upload},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    stored = db_session.scalar(select(Playbook).where(Playbook.cacao_id == doc["id"]))
    assert stored is not None and response.headers["Location"] == f"/playbooks/{stored.id}"
    pasted = document(name="Défacement")
    response = client.post(
        "/playbooks/import", data={"csrf_token": token, "text": json.dumps(pasted)}
    )
    assert response.status_code == 302
    assert db_session.scalar(select(Playbook).where(Playbook.cacao_id == pasted["id"]))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"this is not JSON", "not JSON"),
        (b'{"type": "playbook",\x00 "id": 1}', "NUL byte"),
        (b" " * (5 * 1024 * 1024), "larger than"),
        (b"", "Le fichier est vide"),  # the form speaks the page's language
        (b"\xff\xfe{}", "not UTF-8"),
    ],
    ids=["not-json", "nul", "5mb", "empty", "not-utf8"],
)
def test_bad_uploads_show_the_form_with_the_problem(
    client: FlaskClient, db_session: Session, lead: User, payload: bytes, expected: str
) -> None:
    sign_in(client, lead)
    token = csrf_token(text(client.get("/playbooks/import")))
    response = client.post("/playbooks/import", data=_multipart(token, payload),
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")  # fmt: skip
    assert response.status_code in (413, 422)
    page = text(response)
    assert expected in page and 'enctype="multipart/form-data"' in page
    assert db_session.scalar(select(Playbook)) is None


def test_an_invalid_document_lists_every_problem_with_its_path(
    client: FlaskClient, db_session: Session, lead: User
) -> None:
    bad = document()
    del bad["workflow_start"]
    bad["spec_version"] = "cacao-1.0"
    bad["id"] = "playbook--nope"
    sign_in(client, lead)
    token = csrf_token(text(client.get("/playbooks/import")))
    response = client.post("/playbooks/import", data={"csrf_token": token, "text": json.dumps(bad)})
    assert response.status_code == 422
    page = text(response)
    for path in ("$.workflow_start", "$.spec_version", "$.id"):
        assert f'<code dir="ltr" class="pb-path">{path}</code>' in page
    assert "refusé : 3 problèmes" in page
    assert db_session.scalar(select(Playbook)) is None
    empty = client.post("/playbooks/import", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and "Choisissez un fichier" in text(empty)


def test_analysts_cannot_import(client: FlaskClient, analyst: User) -> None:
    sign_in(client, analyst)
    assert client.get("/playbooks/import").status_code == 403


def test_pasting_too_large_a_document_shows_the_problem(
    client: FlaskClient, db_session: Session, lead: User
) -> None:
    sign_in(client, lead)
    token = csrf_token(text(client.get("/playbooks/import")))
    response = client.post("/playbooks/import", data={"csrf_token": token, "text": "x" * 3_000_000})
    assert response.status_code == 422 and "larger than 2097152 bytes" in text(response)
    assert db_session.scalar(select(Playbook)) is None


def test_runs_on_hidden_incidents_are_neither_listed_nor_shown(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    interieur: Organisation, analyst: User, lead: User
) -> None:  # fmt: skip
    book = playbook(db_session, clock)
    red = report(db_session, clock, interieur, tlp="TLP:RED", title="Secret")
    amber = report(db_session, clock, interieur, title="Visible")
    hidden, shown = (
        run(db_session, clock, book, incident=red),
        run(db_session, clock, book, incident=amber),
    )
    alone = run(db_session, clock, book, key="no-incident", status=RunStatus.COMPLETED)
    sign_in(client, analyst)
    listed = text(client.get("/playbooks/runs"))
    assert f"/playbooks/runs/{shown.id}" in listed and f"/playbooks/runs/{alone.id}" in listed
    assert f"/playbooks/runs/{hidden.id}" not in listed and red.reference not in listed
    assert client.get(f"/playbooks/runs/{hidden.id}").status_code == 404
    assert client.get(f"/playbooks/runs?incident={red.reference}").status_code == 404
    only = text(client.get("/playbooks/runs?status=completed"))
    assert f"/playbooks/runs/{alone.id}" in only and f"/playbooks/runs/{shown.id}" not in only
    by_incident = text(client.get(f"/playbooks/runs?incident={amber.reference}"))
    assert f"/playbooks/runs/{shown.id}" in by_incident and f"runs/{alone.id}" not in by_incident
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    sign_in(client, lead)  # leads see every TLP:RED incident
    assert f"/playbooks/runs/{hidden.id}" in text(client.get("/playbooks/runs"))
    assert client.get(f"/playbooks/runs/{hidden.id}").status_code == 200


def test_the_run_page_shows_the_step_log(
    client: FlaskClient, db_session: Session, clock: FrozenClock, analyst: User, reporter: User
) -> None:
    book = playbook(db_session, clock)
    incident = report(db_session, clock, reporter)
    waiting = run(db_session, clock, book, incident=incident)
    sign_in(client, analyst)
    page = text(client.get(f"/playbooks/runs/{waiting.id}"))
    assert "Contain" in page and "task created" in page
    assert "&#34;__host__&#34;: &#34;&lt;b&gt;pc-12&lt;/b&gt;&#34;" in page  # pretty JSON, escaped
    assert f'href="/incidents/{incident.reference}"' in page
    assert "/cancel" not in page  # analysts do not cancel


def test_a_lead_cancels_a_run_when_the_engine_offers_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead: User, reporter: User
) -> None:
    """Cancelling goes through the engine's ``cancel_run`` (branch ``engine``): tested once it
    is there."""
    services = pytest.importorskip("playbooks.engine.services")
    if not hasattr(services, "cancel_run"):
        pytest.skip("playbooks.engine.services.cancel_run lands with the engine branch")
    book = playbook(db_session, clock)
    waiting = run(db_session, clock, book, incident=report(db_session, clock, reporter))
    sign_in(client, lead)
    page = f"/playbooks/runs/{waiting.id}"
    assert "/cancel" in text(client.get(page))
    assert _post(client, f"{page}/cancel", page).status_code == 302
    db_session.refresh(waiting)
    assert waiting.status == RunStatus.CANCELLED
    again = _post(client, f"{page}/cancel", page)  # a second lead, a second tab: no error
    assert again.status_code == 302
    assert "était déjà terminée" in text(client.get(page))


def test_set_enabled_audits_changes_only_and_refuses_unknown_playbooks(
    db_session: Session, clock: FrozenClock
) -> None:
    book = playbook(db_session, clock)
    actor = Actor.system("test")
    count = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == book.cacao_id)
    )
    before = db_session.scalar(count)
    assert set_enabled(db_session, actor, book.cacao_id, True, clock=clock) is book  # no change
    assert db_session.scalar(count) == before
    set_enabled(db_session, actor, book.cacao_id, False, clock=clock)
    assert db_session.scalar(count) == before + 1 and not book.enabled
    with pytest.raises(NotFound):
        set_enabled(db_session, actor, "playbook--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a00", True,
                    clock=clock)  # fmt: skip
