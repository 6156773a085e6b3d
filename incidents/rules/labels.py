"""What reporters read about incidents: levels, TLP/PAP, statuses, reporter-side states, timeline
events and sectors (English source strings; Flask-free). The RSIT names and descriptions live in
:mod:`incidents.rules.rsit_labels` and are re-exported here, where the pages, forms and templates
read them (``labels.classification_label`` …).

Strings are only *marked* here (``N_``, extracted by ``make messages``); pages and e-mails translate
them when rendering (``_(label)`` in templates, ``translations(locale).gettext`` in e-mails).
"""

from __future__ import annotations

from core.markings import Pap, Tlp
from incidents.models import IncidentStatus, ReporterState
from incidents.rules.priority import Level, Priority
from incidents.rules.rsit_labels import N_ as N_  # the marker, for this module and rules.sla
from incidents.rules.rsit_labels import RSIT_CLASSES as RSIT_CLASSES
from incidents.rules.rsit_labels import RSIT_TYPES as RSIT_TYPES
from incidents.rules.rsit_labels import Choice as Choice
from incidents.rules.rsit_labels import ChoiceGroup as ChoiceGroup
from incidents.rules.rsit_labels import classification_groups as classification_groups
from incidents.rules.rsit_labels import classification_label as classification_label

LEVELS: dict[str, str] = {
    Level.LOW: N_("Low"),
    Level.MEDIUM: N_("Medium"),
    Level.HIGH: N_("High"),
    Level.CRITICAL: N_("Critical"),
}
IMPACT_HELP: dict[str, str] = {
    Level.LOW: N_("Little effect on work: a few people or one non-essential system."),
    Level.MEDIUM: N_(
        "A department or an internal service is disrupted, or non-sensitive data is exposed."
    ),
    Level.HIGH: N_(
        "A service used by citizens or a whole site is disrupted, or sensitive data may be exposed."
    ),
    Level.CRITICAL: N_(
        "Essential services are stopped, or personal data of many people is affected."
    ),
}
URGENCY_HELP: dict[str, str] = {
    Level.LOW: N_("It can wait a few days: no further damage is expected."),
    Level.MEDIUM: N_("It should be handled within a day."),
    Level.HIGH: N_("The damage is spreading or will get worse within hours."),
    Level.CRITICAL: N_("Damage is happening right now: every minute counts."),
}
PRIORITY_LEVELS: dict[str, str] = {
    Priority.P1: N_("Top priority"),
    Priority.P2: N_("High priority"),
    Priority.P3: N_("Normal priority"),
    Priority.P4: N_("Low priority"),
}

TLP_HELP: dict[str, str] = {
    Tlp.CLEAR: N_("No restriction: the information may be made public."),
    Tlp.GREEN: N_(
        "May be shared with the cybersecurity community and partner organisations, never published."
    ),
    Tlp.AMBER: N_(
        "Only within the recipient's organisation and its clients, for those who need to know."
    ),
    Tlp.AMBER_STRICT: N_(
        "Only within the recipient's own organisation, for those who need to know."
    ),
    Tlp.RED: N_("Only for the people directly involved: no further sharing."),
}
PAP_HELP: dict[str, str] = {
    Pap.CLEAR: N_("No restriction on the use of the information."),
    Pap.GREEN: N_(
        "Active measures allowed, e.g. blocking the addresses given or contacting their owner."
    ),
    Pap.AMBER: N_(
        "Only checks the attacker cannot notice, e.g. searching logs or reputation services."
    ),
    Pap.RED: N_(
        "Only actions invisible from outside, e.g. searching internal logs; nothing on the network."
    ),
}

STATUSES: dict[str, str] = {
    IncidentStatus.NEW: N_("Received"),
    IncidentStatus.TRIAGED: N_("Under review"),
    IncidentStatus.IN_PROGRESS: N_("Being handled"),
    IncidentStatus.RESOLVED: N_("Resolved"),
    IncidentStatus.CLOSED: N_("Closed"),
    IncidentStatus.REJECTED: N_("Not retained"),
    IncidentStatus.DUPLICATE: N_("Duplicate"),
}
STATUS_HELP: dict[str, str] = {
    IncidentStatus.NEW: N_("Your report has been received and is waiting for an analyst."),
    IncidentStatus.TRIAGED: N_(
        "An analyst has checked the report and confirmed its classification and priority."
    ),
    IncidentStatus.IN_PROGRESS: N_("The CERT is working on the incident."),
    IncidentStatus.RESOLVED: N_(
        "The CERT considers the incident resolved. Tell it if the problem continues."
    ),
    IncidentStatus.CLOSED: N_("The file is closed."),
    IncidentStatus.REJECTED: N_("The CERT has not retained this report as a security incident."),
    IncidentStatus.DUPLICATE: N_(
        "This incident had already been reported: it is followed under another reference."
    ),
}
REPORTER_STATES: dict[str, tuple[str, str]] = {
    ReporterState.ONGOING: (N_("Still ongoing"), N_("The attack or the problem continues.")),
    ReporterState.CONTAINED: (
        N_("Contained"),
        N_("Under control, e.g. the machine is disconnected, but not yet repaired."),
    ),
    ReporterState.RESOLVED: (N_("Resolved on our side"), N_("Everything works normally again.")),
}
# The SLA states of a due date (acknowledgement, resolution, NIS2 reports) and of a queue row:
# (name, what it means). Codes in incidents.rules.sla.SlaState; every page, the PDF and the
# dashboard say them with these names.
SLA_STATES: dict[str, tuple[str, str]] = {
    "on_time": (N_("On time"), N_("Not done yet; the due date is still ahead.")),
    "due_soon": (N_("Due soon"), N_("Not done yet; the due date is near.")),
    "overdue": (N_("Overdue"), N_("Not done, and the due date has passed.")),
    "met": (N_("Met"), N_("Done by the due date.")),
    "missed": (N_("Missed (done late)"), N_("Done, but after the due date.")),
    "void": (N_("Not applicable"), N_("No longer due: the incident is no longer open.")),
}

# Every kind of timeline event the code writes (``IncidentEvent.kind``) with its short label in
# words; the incident file and the PDF say each as a sentence (incidents/file/_sentence.html).
# The kind itself is an internal code, never shown (tests/incidents/test_timeline_words.py).
EVENTS: dict[str, str] = {
    "created": N_("Report received"),
    "status": N_("Status changed"),
    "reply": N_("Message from the CERT"),
    "priority": N_("Priority changed"),
    "assignment": N_("Assignment changed"),
    "classification": N_("Classification changed"),
    "markings": N_("Markings changed"),
    "participant": N_("Participants changed"),
    "linked": N_("Linked to another incident"),
    "unlinked": N_("Link to another incident removed"),
    "merged": N_("Incidents merged"),
    "observable_added": N_("Observable added"),
    "observable_removed": N_("Observable removed"),
    "task_added": N_("Task added"),
    "task_done": N_("Task done"),
    "task_reopened": N_("Task reopened"),
    "tasks_applied": N_("Task templates applied"),
    "comment": N_("Internal comment"),
    "reporter_reply": N_("Answer from the reporter"),
    "mail": N_("E-mail sent"),
    "attachment": N_("Attachment added"),
    # a file of an e-mail received that was not kept (beyond CERT_MAX_UPLOAD_MB); its name is
    # the event's text, shown under the sentence
    "attachment_refused": N_("The file is too large."),
    "intel_match": N_("Threat intelligence match"),
    "attention": N_("Priority raised by threat intelligence"),
    "escalated": N_("Escalated: not acknowledged in time"),
    # vigilance centres (incidents.centres): internal events
    "transferred": N_("Transferred to another centre"),
    "shared": N_("Shared with another centre"),
    "unshared": N_("Share with another centre taken back"),
}
# What the members of a centre an incident is shared with may do (incidents.models.ShareMode)
SHARE_MODES: dict[str, str] = {
    "read": N_("read only"),
    "work": N_("read and work"),
}
# How a sighting was found (incidents.intel.models.FoundBy) and why an observable met an
# indicator (feeds.rules.keys.Why), in words: the file's threat-intelligence panel and timeline.
FOUND_BY: dict[str, str] = {
    "arrival": N_("on arrival"),
    "observable": N_("when the observable was added"),
    "retrohunt": N_("by retro-hunt"),
}
MATCH_WHY: dict[str, str] = {
    "exact": N_("exact value"),
    "network": N_("in a listed network"),
    "parent-domain": N_("parent domain listed"),
    "url-host": N_("URL host listed"),
}
RELATED_TYPES: dict[str, str] = {
    "malware": N_("Malware"),
    "intrusion-set": N_("Intrusion sets"),
    "campaign": N_("Campaigns"),
    "threat-actor": N_("Threat actors"),
    "attack-pattern": N_("ATT&CK techniques"),
    "vulnerability": N_("Vulnerabilities"),
    "tool": N_("Tools"),
}
OTHER_EVENT = N_("Update")  # an event of a kind this version does not know (never its code)


# Sectors of organisations: stored as typed, one English word ("health", "finance"…, see the
# organisation form); pages show these names for the known ones and the stored word otherwise.
SECTORS: dict[str, str] = {
    "agriculture": N_("Agriculture"),
    "defence": N_("Defence"),
    "education": N_("Education"),
    "energy": N_("Energy"),
    "finance": N_("Finance"),
    "government": N_("Government"),
    "health": N_("Health"),
    "industry": N_("Industry"),
    "justice": N_("Justice"),
    "telecommunications": N_("Telecommunications"),
    "tourism": N_("Tourism"),
    "transport": N_("Transport"),
    "water": N_("Water"),
}


def sector_label(sector: str) -> str | None:
    """The marked (untranslated) name of a known sector, any case; None for another word."""
    return SECTORS.get(sector.strip().lower())
