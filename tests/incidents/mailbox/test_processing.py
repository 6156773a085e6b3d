"""The mailbox's decisions (``incidents.mailbox.processing``), on both databases, through
:func:`~incidents.mailbox.receiving.receive` with real messages: new reports from known
senders, replies threaded by Message-ID or by subject, and everything held — with the
attacker's attempts (forged From, another organisation's reference, a Message-ID of ours
forged in ``In-Reply-To``, a TLP:RED reference) held, never merged, and nothing written back."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from core.audit import AuditEntry
from core.events.store import DomainEvent
from core.identity.models import Role
from incidents.events import IncidentEventName
from incidents.mailbox import conversion
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.mailbox.parsing import parse
from incidents.mailbox.store import read_raw
from incidents.models import Attachment, Incident, IncidentEvent, IncidentStatus
from tests.incidents.mailbox.conftest import (
    CONTACT,
    OTHER_CONTACT,
    SHARED_CONTACT,
    Mailbox,
    mail_settings,
)
from tests.kit.factories import report as submitted
from tests.kit.mail import (
    CERT_ADDRESS,
    PDF,
    authentication_results,
    auto_reply,
    bounce,
    message,
    raw,
    reply,
    report,
)
from tests.kit.web import sign_in

PHISHING = (
    "Bonjour,\n\nNos agents reçoivent un courriel piégé depuis 203.0.113.77 avec un lien vers\n"
    "hxxps://faux-portail[.]example/login — *ne pas cliquer*.\n\n<b>Urgent</b>\n"
)

ANSWER = (
    "Voici le *journal*.\n<script>x</script>\n\nLe 4 déc. 2026 à 10:00, CERT a écrit :\n> vieux\n"
)


def _events(mailbox: Mailbox, incident: Incident, kind: str) -> list[IncidentEvent]:
    query = select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == kind
    )
    return list(mailbox.session.scalars(query.order_by(IncidentEvent.id)))


def _incident(mailbox: Mailbox, reference: str | None) -> Incident:
    assert reference is not None
    found = mailbox.session.scalar(select(Incident).where(Incident.reference == reference))
    assert found is not None
    return found


def _actions(mailbox: Mailbox, mail_id: int) -> list[str]:
    query = select(AuditEntry.action).where(
        AuditEntry.object_type == "inbound_mail", AuditEntry.object_id == str(mail_id)
    )
    return list(mailbox.session.scalars(query.order_by(AuditEntry.id)))


# ---------------------------------------------------------------- new reports


def test_a_contacts_report_becomes_an_acknowledged_incident_with_its_files(
    mailbox: Mailbox,
) -> None:
    forwarded = raw(
        message(sender="rh@banque-piege.example", subject="Votre salaire", text="http://paie-rh.example/x")
    )  # fmt: skip
    sent = message(
        sender="SOC@interieur.gov.ma",
        name="SOC Intérieur",
        subject="TR: Hameçonnage en cours",
        text=PHISHING,
        files=[("rapport.pdf", PDF, "application/pdf")],
        forwarded=[forwarded],
        auth=authentication_results(),
    )
    received = mailbox.receive(raw(sent))
    assert received.status is MailStatus.INCIDENT and received.new
    incident = _incident(mailbox, received.incident_reference)
    interieur = mailbox.world.interieur
    assert incident.organisation_id == interieur.id and incident.reporter_id is None
    assert incident.title == "Hameçonnage en cours"
    assert (incident.category, incident.type, incident.tlp) == (
        "other",
        "undetermined",
        "TLP:AMBER",
    )
    assert incident.contact_email == CONTACT and incident.contact_name == "SOC Intérieur"
    assert incident.description == PHISHING.strip()  # as written: nothing read as Markdown
    values = {o.value for o in incident.observables}
    assert {"203.0.113.77", "faux-portail.example", "paie-rh.example"} <= values
    names = sorted(a.filename for a in incident.attachments)
    assert names[0].endswith(".eml") and names[1] == "rapport.pdf"
    row = mailbox.row(received)
    assert (row.organisation_id, row.incident_id, row.from_address) == (
        interieur.id, incident.id, CONTACT,
    )  # fmt: skip
    assert row.authentication is not None and row.authentication["dmarc"] == "pass"
    assert row.processed_at is not None and row.attempts == 1
    assert read_raw(mailbox.settings.mail.mail_dir, row.sha256) == raw(sent)
    [ack] = mailbox.outbox()
    assert (ack.to_addr, ack.in_reply_to) == (CONTACT, str(sent["Message-ID"]))
    assert (ack.related_type, ack.related_id) == ("incident", incident.reference)
    assert _actions(mailbox, row.id) == ["mail.receive", "mail.incident"]


def test_a_users_report_is_theirs_and_a_cert_account_is_held(mailbox: Mailbox) -> None:
    reporter = mailbox.world.reporter
    received = mailbox.receive(report(reporter.email.upper(), subject="Rançongiciel"))
    incident = _incident(mailbox, received.incident_reference)
    assert incident.reporter_id == reporter.id and incident.title == "Rançongiciel"
    [ack] = mailbox.outbox()
    assert ack.to_addr == reporter.email
    staff = mailbox.receive(report(mailbox.world.analyst.email))
    assert (staff.status, staff.hold_reason) == (MailStatus.HELD, "staff_sender")
    assert len(mailbox.outbox()) == 1


def test_an_empty_subject_gets_a_french_title_and_an_empty_message_is_held(
    mailbox: Mailbox,
) -> None:
    titled = mailbox.receive(report(subject="Re:", text="Un poste chiffre ses fichiers."))
    assert _incident(mailbox, titled.incident_reference).title == "Signalement reçu par courriel"
    empty = mailbox.receive(report(subject="Rien", text="  \n"))
    assert (empty.status, empty.hold_reason) == (MailStatus.HELD, "no_content")


def test_strangers_robots_and_loops_are_held_and_never_answered(mailbox: Mailbox) -> None:
    cases = {
        "unknown_sender": report("inconnu@gmail.example"),
        "ambiguous_sender": report(SHARED_CONTACT),
        "auto_reply": auto_reply(CONTACT),
        "bounce": bounce(CONTACT),
        "loop": report(CERT_ADDRESS),
    }
    for reason, sent in cases.items():
        received = mailbox.receive(sent)
        assert (received.status, received.hold_reason) == (MailStatus.HELD, reason), reason
        row = mailbox.row(received)
        assert row.incident_id is None and row.hold_detail
        assert _actions(mailbox, row.id) == ["mail.receive", "mail.hold"]
    assert mailbox.outbox() == []
    assert mailbox.session.scalars(select(Incident)).all() == []


def test_a_message_id_of_ours_come_back_is_a_loop(mailbox: Mailbox) -> None:
    first = mailbox.receive(report())
    [ack] = mailbox.outbox()
    echoed = mailbox.receive(report(CONTACT, message_id=ack.message_id, subject="Accusé"))
    assert (echoed.status, echoed.hold_reason) == (MailStatus.HELD, "loop")
    assert first.status is MailStatus.INCIDENT and len(mailbox.outbox()) == 1


def test_a_forged_from_failing_dmarc_is_held_even_from_a_known_contact(mailbox: Mailbox) -> None:
    forged = report(CONTACT, auth=authentication_results(dmarc="fail", dkim="none", spf="fail"))
    received = mailbox.receive(forged)
    assert (received.status, received.hold_reason) == (MailStatus.HELD, "dmarc_fail")
    row = mailbox.row(received)
    assert row.authentication is not None and row.authentication["dmarc"] == "fail"
    assert row.hold_detail is not None and "dmarc=fail" in row.hold_detail
    assert mailbox.outbox() == []


def test_only_the_trusted_mta_is_believed_when_authentication_is_required(
    mailbox: Mailbox,
) -> None:
    strict = mail_settings(mailbox.settings.upload_dir.parent, require_auth=True)
    # a pass written by the sender itself (another authserv-id) proves nothing
    forged = report(CONTACT, auth=authentication_results(authserv_id="mx.attaquant.example"))
    held = mailbox.receive(forged, strict)
    assert (held.status, held.hold_reason) == (MailStatus.HELD, "unauthenticated")
    assert mailbox.row(held).authentication is None
    genuine = mailbox.receive(report(CONTACT, auth=authentication_results()), strict)
    assert genuine.status is MailStatus.INCIDENT


def test_too_large_messages_are_held_unread(mailbox: Mailbox) -> None:
    small = mail_settings(mailbox.settings.upload_dir.parent, max_bytes=200)
    received = mailbox.receive(report(text="x" * 500), small)
    assert (received.status, received.hold_reason) == (MailStatus.HELD, "too_large")
    assert mailbox.row(received).from_address is None  # not even parsed


def test_the_same_message_id_from_the_same_sender_is_handled_once(mailbox: Mailbox) -> None:
    first = mailbox.receive(report(message_id="<copie@mua.test>", subject="Fuite"))
    again = mailbox.receive(report(message_id="<copie@mua.test>", subject="Fuite (copie)"))
    assert again.new and again.status is MailStatus.DUPLICATE
    assert mailbox.row(again).duplicate_of_id == first.mail_id
    other = mailbox.receive(report(OTHER_CONTACT, message_id="<copie@mua.test>"))
    assert other.status is MailStatus.INCIDENT  # another sender: another message
    assert len(mailbox.session.scalars(select(Incident)).all()) == 2


def test_a_forged_copy_held_first_does_not_make_the_genuine_message_a_duplicate(
    mailbox: Mailbox,
) -> None:
    forged = report(message_id="<vrai@interieur.gov.ma>", auth=authentication_results(dmarc="fail"))
    assert mailbox.receive(forged).hold_reason == "dmarc_fail"
    genuine = report(message_id="<vrai@interieur.gov.ma>", auth=authentication_results())
    assert mailbox.receive(genuine).status is MailStatus.INCIDENT


def test_a_file_beyond_the_limit_is_noted_never_stored(mailbox: Mailbox) -> None:
    big = b"%PDF-1.4\n" + b"0" * (80 * 1024)
    sent = report(files=[("dump.pdf", big, "application/pdf"), ("ok.pdf", PDF, "application/pdf")])
    incident = _incident(mailbox, mailbox.receive(sent).incident_reference)
    assert [a.filename for a in incident.attachments] == ["ok.pdf"]
    [note] = _events(mailbox, incident, "attachment_refused")
    assert note.data["filename"] == "dump.pdf" and not note.public


# ---------------------------------------------------------------- replies


def _acknowledged(mailbox: Mailbox, **fields: object) -> tuple[Incident, str]:
    """A report of the Interior's contact, and the Message-ID of its acknowledgement."""
    received = mailbox.receive(report(**fields))  # type: ignore[arg-type]
    incident = _incident(mailbox, received.incident_reference)
    acks = [m for m in mailbox.outbox() if m.related_id == incident.reference]
    return incident, acks[-1].message_id


def test_a_reply_to_the_acknowledgement_lands_in_the_conversation(mailbox: Mailbox) -> None:
    incident, ack_id = _acknowledged(mailbox)
    answer = reply(
        ack_id,
        text=ANSWER,
        files=[("journal.txt", b"connexion depuis 198.51.100.23\n", "text/plain")],
    )  # fmt: skip
    received = mailbox.receive(answer)
    assert (received.status, received.incident_reference) == (MailStatus.REPLY, incident.reference)
    [event] = _events(mailbox, incident, "reporter_reply")
    assert event.public and event.actor_label == CONTACT and event.data["via"] == "email"
    body = event.data["body"]
    assert body == "<p>Voici le *journal*.<br>&lt;script&gt;x&lt;/script&gt;</p>"  # no history
    [sent_file] = event.data["attachments"]
    attachment = mailbox.session.get(Attachment, sent_file["id"])
    assert attachment is not None and attachment.event_id == event.id
    assert "198.51.100.23" in {o.value for o in incident.observables}
    names = mailbox.session.scalars(
        select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)
    ).all()
    assert "reporter_reply" in names
    domain = list(
        mailbox.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(received.mail_id))
        )
    )
    assert domain[-1] == "mail.reply"
    recorded = mailbox.session.scalars(  # the assignee's notification hangs off this event
        select(DomainEvent.name).where(DomainEvent.aggregate_id == incident.reference)
    ).all()
    assert IncidentEventName.REPORTER_ANSWERED.value in recorded
    assert len(mailbox.outbox()) == 1  # no acknowledgement of an answer


def test_a_reply_naming_the_reference_in_its_subject_threads(mailbox: Mailbox) -> None:
    incident, _ = _acknowledged(mailbox)
    subject = f"Re: [{incident.reference.lower()}] Accusé de réception"
    received = mailbox.receive(report(subject=subject, text="Le poste est isolé."))
    assert received.status is MailStatus.REPLY
    [event] = _events(mailbox, incident, "reporter_reply")
    assert event.data["body"] == "<p>Le poste est isolé.</p>"


def test_a_contact_of_two_ministries_answers_the_one_the_thread_names(mailbox: Mailbox) -> None:
    incident = submitted(mailbox.session, mailbox.clock, mailbox.world.other_reporter)
    received = mailbox.receive(report(SHARED_CONTACT, subject=f"[{incident.reference}] suite"))
    assert received.status is MailStatus.REPLY
    [event] = _events(mailbox, incident, "reporter_reply")
    assert event.actor_label == SHARED_CONTACT


def test_another_ministry_cannot_write_into_an_incident(mailbox: Mailbox) -> None:
    incident, ack_id = _acknowledged(mailbox, subject="Intrusion au ministère")
    attempts = {
        # a reply naming another organisation's reference in the subject
        "subject": report(OTHER_CONTACT, subject=f"Re: [{incident.reference}] suite"),
        # a Message-ID of ours forged in In-Reply-To
        "in-reply-to": reply(ack_id, OTHER_CONTACT, subject="Re: suite"),
        # a user of the other ministry
        "user": report(mailbox.world.other_reporter.email, subject=f"[{incident.reference}]"),
    }
    for name, sent in attempts.items():
        received = mailbox.receive(sent)
        assert (received.status, received.hold_reason) == (
            MailStatus.HELD, "other_organisation",
        ), name  # fmt: skip
        assert received.incident_reference is None
    stranger = mailbox.receive(report("x@attaquant.example", subject=f"[{incident.reference}]"))
    assert stranger.hold_reason == "unknown_sender"
    assert _events(mailbox, incident, "reporter_reply") == []
    assert len(mailbox.outbox()) == 1  # the first acknowledgement only: nothing to them


def test_a_red_incidents_reference_from_a_stranger_reveals_nothing(mailbox: Mailbox) -> None:
    red = submitted(mailbox.session, mailbox.clock, mailbox.world.reporter, tlp="TLP:RED")
    before = len(mailbox.outbox())
    received = mailbox.receive(
        report("x@attaquant.example", subject=f"[{red.reference}] mot de passe ?")
    )
    assert (received.status, received.hold_reason) == (MailStatus.HELD, "unknown_sender")
    assert mailbox.row(received).incident_id is None
    assert len(mailbox.outbox()) == before and _events(mailbox, red, "reporter_reply") == []
    # through a Message-ID of ours only, the held message does not name the RED incident
    ack = next(m for m in mailbox.outbox() if m.related_id == red.reference)
    forged = mailbox.receive(reply(ack.message_id, OTHER_CONTACT, subject="Re: suite"))
    row = mailbox.row(forged)
    assert row.hold_reason is HoldReason.OTHER_ORGANISATION
    assert row.hold_detail is not None and red.reference not in row.hold_detail


def test_unknown_and_merged_references_are_held(mailbox: Mailbox) -> None:
    unknown = mailbox.receive(report(subject="[MACERT-2026-999999] suite"))
    assert (unknown.status, unknown.hold_reason) == (MailStatus.HELD, "unknown_reference")
    incident, _ = _acknowledged(mailbox)
    incident.status = IncidentStatus.DUPLICATE
    mailbox.session.flush()
    merged = mailbox.receive(report(subject=f"[{incident.reference}] suite"))
    assert (merged.status, merged.hold_reason) == (MailStatus.HELD, "merged")
    assert _events(mailbox, incident, "reporter_reply") == []


def test_staff_roles_do_not_make_a_sender_known(mailbox: Mailbox) -> None:
    lead = mailbox.world.user(Role.LEAD, email="chef@cert.gov.ma")
    received = mailbox.receive(report(lead.email))
    assert received.hold_reason == "staff_sender"


def test_the_mail_text_is_shown_as_written_on_the_file_and_the_status_page(
    mailbox: Mailbox, client: FlaskClient
) -> None:
    incident, ack_id = _acknowledged(mailbox, text=PHISHING)
    mailbox.receive(reply(ack_id, text=ANSWER))
    sign_in(client, mailbox.world.analyst)
    page = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "&lt;b&gt;Urgent&lt;/b&gt;" in page and "<b>Urgent</b>" not in page
    assert "*ne pas cliquer*" in page and "<em>ne pas cliquer</em>" not in page
    assert "<p>Voici le *journal*.<br>&lt;script&gt;x&lt;/script&gt;</p>" in page
    assert "<script>x</script>" not in page


def test_an_analyst_may_open_a_red_incident_from_a_held_message_with_its_files(
    mailbox: Mailbox,
) -> None:
    held = mailbox.receive(
        report("inconnu@gmail.example", files=[("preuve.pdf", PDF, "application/pdf")])
    )
    mail = mailbox.row(held)
    analyst = mailbox.world.actor(mailbox.world.analyst)
    parsed = parse(raw_bytes(mailbox, mail), max_attachment_bytes=mailbox.settings.max_upload_bytes)
    incident = conversion.incident_from_mail(
        mailbox.session, analyst, mail, parsed, organisation="min-interieur", title=None,
        tlp="TLP:RED", acknowledge=False, clock=mailbox.clock, settings=mailbox.settings,
    )  # fmt: skip
    assert incident.tlp == "TLP:RED" and [a.filename for a in incident.attachments] == [
        "preuve.pdf"
    ]
    assert mail.status is MailStatus.INCIDENT and mailbox.outbox() == []  # acknowledge=False


def raw_bytes(mailbox: Mailbox, mail: InboundMail) -> bytes:
    return read_raw(mailbox.settings.mail.mail_dir, mail.sha256)


def test_an_account_registered_as_another_ministrys_contact_answers_its_incident(
    mailbox: Mailbox,
) -> None:
    reporter = mailbox.world.reporter  # an account of the Interior ministry
    mailbox.world.sante.contact_emails = [*mailbox.world.sante.contact_emails, reporter.email]
    mailbox.session.flush()
    theirs = submitted(mailbox.session, mailbox.clock, mailbox.world.other_reporter)
    received = mailbox.receive(report(reporter.email, subject=f"RE: [{theirs.reference}] suite"))
    assert received.status is MailStatus.REPLY
    [event] = _events(mailbox, theirs, "reporter_reply")
    assert event.actor_id is None and event.actor_label == reporter.email  # as the contact
    new = mailbox.receive(report(reporter.email, subject="Nouveau"))  # its own ministry's
    assert _incident(mailbox, new.incident_reference).organisation_id == reporter.organisation_id


def test_an_arabic_report_keeps_its_words(mailbox: Mailbox) -> None:
    text = "السلام عليكم،\n\nتم اختراق الموقع 198.51.100.42 هذا الصباح.\n"
    received = mailbox.receive(report(subject="Fwd: اختراق موقع الوزارة", text=text))
    incident = _incident(mailbox, received.incident_reference)
    assert incident.title == "اختراق موقع الوزارة" and incident.description == text.strip()
    assert "198.51.100.42" in {o.value for o in incident.observables}
