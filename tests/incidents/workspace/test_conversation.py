"""incidents.workspace.conversation: sanitising, internal comments, replies to the reporter (e-mail
and status page), the reporter's answers and the timeline each side sees."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from incidents.models import Incident, IncidentStatus
from incidents.workspace import conversation, merge, workflow
from tests.incidents.workspace_helpers import audit_actions, events, outbox
from tests.kit.factories import PASSWORD, SETTINGS, report
from tests.kit.web import login, text
from tests.kit.world import World

XSS = '<p onclick="steal()">Hi <script>alert(1)</script><a href="javascript:alert(2)">x</a></p>'


# ---------------------------------------------------------------- sanitise
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<script>alert(1)</script>ok", "ok"),
        ('<p onclick="x()" onmouseover="y()">hi</p>', "<p>hi</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<a href="https://cert.ma/x" target="_blank">x</a>',
         '<a href="https://cert.ma/x" rel="noopener noreferrer nofollow">x</a>'),
        ('<img src=x onerror="alert(1)">', ""),
        ("<style>p{color:red}</style><iframe src=x></iframe>t", "t"),
        ("<ul><li><strong>a</strong> <em>b</em> <code>c</code></li></ul>",
         "<ul><li><strong>a</strong> <em>b</em> <code>c</code></li></ul>"),
        ("a < b & c", "a &lt; b &amp; c"),
    ],
)  # fmt: skip
def test_sanitise_keeps_the_allow_list_only(raw: str, clean: str) -> None:
    assert conversation.sanitise(raw) == clean


# ---------------------------------------------------------------- comments
def test_comments_are_internal_sanitised_and_audited(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    event = conversation.add_comment(
        db_session, world.actor(world.analyst), incident, XSS, clock=clock
    )
    assert event.kind == "comment" and not event.public
    assert event.data == {"body": f"<p>{html.escape(XSS, quote=False)}</p>"}  # HTML as text
    assert "incident.comment" in audit_actions(db_session, incident)


def test_comments_need_a_body_and_staff(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    for body in ("", "   ", "x" * 20_001):
        with pytest.raises(ValidationFailed) as caught:
            conversation.add_comment(
                db_session, world.actor(world.analyst), incident, body, clock=clock
            )
        assert set(caught.value.fields) == {"body"}
    with pytest.raises(PermissionDenied):
        conversation.add_comment(
            db_session, world.actor(world.reporter), incident, "hi", clock=clock
        )
    assert events(db_session, incident, "comment") == []


# ---------------------------------------------------------------- replies
def test_a_reply_is_mailed_to_the_reporter_and_public(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    world.reporter.locale = "en"  # the reporter writes English: so does the CERT
    before = len(outbox(db_session, incident))
    body = "Please **reset** the passwords.\n\n<script>x</script>"
    event = conversation.reply_to_reporter(
        db_session, world.actor(world.analyst), incident, body, clock=clock, settings=SETTINGS
    )
    assert event.kind == "reply" and event.public
    assert event.data == {
        "body": "<p>Please <strong>reset</strong> the passwords.</p>"
        "<p>&lt;script&gt;x&lt;/script&gt;</p>",
        "to": world.reporter.email,
    }
    [mail] = outbox(db_session, incident)[before:]
    assert mail.to_addr == world.reporter.email and mail.language == "en"
    assert mail.subject == f"[TLP:AMBER] Message from the CERT — {incident.reference}"
    assert "Please **reset** the passwords." in mail.text_body  # the Markdown as written
    assert mail.html_body is not None and "<strong>reset</strong>" in mail.html_body
    assert "<script>" not in mail.html_body and "&lt;script&gt;" in mail.html_body
    assert "incident.reply" in audit_actions(db_session, incident)


def test_a_reply_needs_an_address(db_session: Session, clock: FrozenClock, world: World) -> None:
    incident = report(db_session, clock, world.analyst, organisation=world.sante.slug)  # no contact
    with pytest.raises(ValidationFailed) as caught:
        conversation.reply_to_reporter(
            db_session, world.actor(world.analyst), incident, "hi", clock=clock, settings=SETTINGS
        )
    assert set(caught.value.fields) == {"to"}


# ---------------------------------------------------------------- reporter answers
def test_a_reporter_of_the_organisation_answers_publicly(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    event = conversation.reporter_answer(
        db_session, world.actor(world.reporter), incident, "The site is down now.", clock=clock
    )
    assert event.kind == "reporter_reply" and event.public
    assert event.data == {"body": "<p>The site is down now.</p>"}
    staff = conversation.timeline(
        db_session, world.actor(world.analyst), incident, public_only=False
    )
    assert staff[0].id == event.id
    with pytest.raises(NotFound):
        conversation.reporter_answer(
            db_session, world.actor(world.other_reporter), incident, "hi", clock=clock
        )
    with pytest.raises(PermissionDenied):
        conversation.reporter_answer(
            db_session, world.actor(world.analyst), incident, "hi", clock=clock
        )


def test_answering_a_closed_incident_does_not_reopen_it(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    for status in ("triaged", "resolved", "closed"):
        workflow.change_status(
            db_session, world.actor(world.analyst), incident, status, clock=clock,
            settings=SETTINGS, resolution="ok", assignee=world.analyst,
        )  # fmt: skip
    conversation.reporter_answer(
        db_session, world.actor(world.reporter), incident, "Thanks!", clock=clock
    )
    assert incident.status == IncidentStatus.CLOSED
    assert events(db_session, incident)[-1].kind == "reporter_reply"


def test_a_merged_duplicate_cannot_be_answered_and_names_the_survivor(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    survivor = report(db_session, clock, world.reporter)
    merge.merge(
        db_session, world.actor(world.analyst), survivor, incident, clock=clock, settings=SETTINGS
    )
    with pytest.raises(Conflict) as caught:
        conversation.reporter_answer(
            db_session, world.actor(world.reporter), incident, "hi", clock=clock
        )
    assert survivor.reference in caught.value.fields["body"]


# ---------------------------------------------------------------- timeline
def test_reporters_get_public_events_only_newest_first_with_keyset_pages(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    conversation.add_comment(db_session, analyst, incident, "internal note", clock=clock)
    conversation.reply_to_reporter(
        db_session, analyst, incident, "public reply", clock=clock, settings=SETTINGS
    )
    kinds = [
        e.kind for e in conversation.timeline(db_session, analyst, incident, public_only=False)
    ]
    assert kinds == ["reply", "comment", "created"]
    reporter = world.actor(world.reporter)
    seen = conversation.timeline(db_session, reporter, incident, public_only=False)
    assert [e.kind for e in seen] == ["reply", "created"]
    older = conversation.timeline(
        db_session, analyst, incident, public_only=True, limit=1, before_id=seen[0].id
    )
    assert [e.kind for e in older] == ["created"]
    with pytest.raises(NotFound):
        conversation.timeline(
            db_session, world.actor(world.other_reporter), incident, public_only=True
        )


def test_the_status_page_shows_replies_and_answers_but_never_comments(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    analyst = world.actor(world.analyst)
    conversation.add_comment(db_session, analyst, incident, "SECRET-NOTE of the CERT", clock=clock)
    conversation.reply_to_reporter(
        db_session, analyst, incident, "<p>REPLY-TEXT for you</p>", clock=clock, settings=SETTINGS
    )
    conversation.reporter_answer(
        db_session,
        world.actor(world.reporter),
        incident,
        "ANSWER-TEXT <script>x()</script>",
        clock=clock,
    )
    db_session.flush()
    login(client, world.reporter.email, PASSWORD)
    page = text(client.get(f"/track/{incident.reference}"))
    assert "REPLY-TEXT for you" in page and "ANSWER-TEXT" in page
    assert "SECRET-NOTE" not in page and "<script>x()" not in page
