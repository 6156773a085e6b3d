"""An incident with everything the reporter must not read, for the reporter's PDF tests: an internal
comment, a task, an assignee, an internal status reason, an analyst's observable, an internal
file, and a duplicate of another organisation merged into it — next to what the reporter does read
(the CERT's reply, their own answer with a file, their observables)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.intake.attachments import add_attachment
from incidents.models import Incident
from incidents.workspace import conversation, merge, observables_admin, tasks, workflow
from incidents.workspace.answer_files import AnswerFiles, Upload, answer_with_files
from tests.kit.factories import SETTINGS, report
from tests.kit.world import World

# a Latin title whose brackets, date and dash a right-to-left paragraph used to reorder
TITLE = "[URGENT] 2026-01 - Hameçonnage sur evil[.]example"
# Arabic text with a link long enough to wrap: its trailing "/" used to jump before "hxxps"
DESCRIPTION = (
    "وصلت إلى المديرية رسالة احتيالية من alerte[@]evil[.]example تطلب من الموظفين تحديث كلمات "
    "المرور عبر الرابط hxxps://evil[.]example/login.php?session=abcdef0123456789 ثم تسجيل الدخول "
    "من العنوان 203.0.113.9"
)
SECRETS = {
    "comment": "Piste interne secrète XK42",
    "task": "Bloquer le C2 interne ZQ17",
    "status_reason": "Motif interne du triage RW88",
    "priority_reason": "Raison interne de priorité PP31",
    "analyst_observable": "c2-interne-analyste.example",
    "other_observable": "autre-ministere-seulement.example",
    "other_title": "Rapport confidentiel du ministère de la Santé",
    "staff_file": "echantillon-interne.txt",
    "assignee": "Amine Analyste",
}
REPLY = "Merci, nous analysons le lien signalé."
ANSWER = "Voici la capture du courriel reçu."
ANSWER_FILE = "capture-courriel.txt"


@dataclass
class ReporterScene:
    incident: Incident
    other: Incident


def build(world: World, session: Session, clock: FrozenClock, upload_dir: Path) -> ReporterScene:
    reporter, analyst, lead = world.reporter, world.analyst, world.lead
    staff, chief = world.actor(analyst), world.actor(lead)
    incident = report(session, clock, reporter, title=TITLE, description=DESCRIPTION)
    other = report(
        session, clock, world.other_reporter, title=SECRETS["other_title"],
        description=f"Vu aussi {SECRETS['other_observable']} chez nous.",
    )  # fmt: skip
    workflow.assign(session, staff, incident, analyst, clock=clock)
    workflow.set_priority(
        session, staff, incident, "P2", SECRETS["priority_reason"], clock=clock, settings=SETTINGS
    )
    workflow.change_status(
        session, staff, incident, "triaged", clock=clock, settings=SETTINGS,
        reason=SECRETS["status_reason"],
    )  # fmt: skip
    conversation.add_comment(session, staff, incident, SECRETS["comment"], clock=clock)
    tasks.add_task(session, staff, incident, SECRETS["task"], clock=clock, assignee=analyst)
    observables_admin.add_observable(
        session, staff, incident, "domain", SECRETS["analyst_observable"], clock=clock
    )
    add_attachment(
        session, staff, incident, filename=SECRETS["staff_file"],
        stream=io.BytesIO(b"sample internal bytes\n"), clock=clock,
        upload_dir=upload_dir, max_bytes=SETTINGS.max_upload_bytes,
    )  # fmt: skip
    merge.merge(
        session, chief, incident, other, clock=clock, settings=SETTINGS,
        confirm_organisations=[other.organisation.slug, incident.organisation.slug],
    )  # fmt: skip
    conversation.reply_to_reporter(
        session, staff, incident, f"<p>{REPLY}</p>", clock=clock, settings=SETTINGS
    )
    files = AnswerFiles(uploads=[Upload(ANSWER_FILE, io.BytesIO(b"From: alerte@evil.example\n"))])
    answer_with_files(
        session, world.actor(reporter), incident, ANSWER, files, clock=clock,
        upload_dir=upload_dir, max_bytes=SETTINGS.max_upload_bytes,
    )  # fmt: skip
    session.flush()
    return ReporterScene(incident, other)
