"""What reporters read about incidents: RSIT names with plain-language descriptions, levels,
TLP/PAP, statuses and reporter-side states (English source strings; Flask-free).

Strings are only *marked* here (``N_``, extracted by ``make messages``); pages and e-mails translate
them when rendering (``_(label)`` in templates, ``translations(locale).gettext`` in e-mails). The
RSIT names are the exact names of ``data/rsit.json``; the descriptions are written for a ministry
clerk, not for an analyst.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.markings import Pap, Tlp
from incidents.models import IncidentStatus, ReporterState
from incidents.rules.priority import Level, Priority
from incidents.rules.taxonomy import rsit_classes


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    return message


RSIT_CLASSES: dict[str, tuple[str, str]] = {
    "abusive-content": (
        N_("Abusive Content"),
        N_(
            "Unwanted or offensive messages and content: spam, harassment, threats, illegal images."
        ),
    ),
    "malicious-code": (
        N_("Malicious Code"),
        N_("A virus or other malicious software on a computer, phone or server, or a link to one."),
    ),
    "information-gathering": (
        N_("Information Gathering"),
        N_("Someone is probing your systems or your staff to prepare an attack."),
    ),
    "intrusion-attempts": (
        N_("Intrusion Attempts"),
        N_("Someone tried to break in but, as far as you know, did not succeed."),
    ),
    "intrusions": (
        N_("Intrusions"),
        N_(
            "Someone got in: a hacked account, website, computer or server, or a physical break-in."
        ),
    ),
    "availability": (
        N_("Availability"),
        N_("A service or website is slow or down: attack, sabotage, breakdown or wrong setting."),
    ),
    "information-content-security": (
        N_("Information Content Security"),
        N_("Data was read, changed, lost or leaked without authorisation."),
    ),
    "fraud": (
        N_("Fraud"),
        N_("Deception: fake e-mails or websites, impersonation, misuse of your resources, piracy."),
    ),
    "vulnerable": (
        N_("Vulnerable"),
        N_("A weakness not yet exploited: outdated system, exposed service, weak encryption."),
    ),
    "other": (
        N_("Other"),
        N_("None of the above, or you are not sure: the CERT will classify the incident."),
    ),
    "test": (N_("Test"), N_("Test report, not a real incident.")),
}

RSIT_TYPES: dict[str, tuple[str, str]] = {
    "spam": (N_("Spam"), N_("Mass unsolicited e-mails, received or sent from your systems.")),
    "harmful-speech": (
        N_("Harmful Speech"),
        N_("Harassment, threats, insults or discrimination aimed at a person or a group online."),
    ),
    "violence": (
        N_("(Child) Sexual Exploitation/Sexual/Violent Content"),
        N_("Child sexual abuse material, other sexual content, or content glorifying violence."),
    ),
    "infected-system": (
        N_("Infected System"),
        N_("A computer, phone or server infected by a virus or other malicious software."),
    ),
    "c2-server": (N_("C2 Server"), N_("A server used by attackers to control infected machines.")),
    "malware-distribution": (
        N_("Malware Distribution"),
        N_("A link, website or attachment that installs malicious software, e.g. a fake invoice."),
    ),
    "malware-configuration": (
        N_("Malware Configuration"),
        N_("A website hosting files that configure malicious software."),
    ),
    "scanner": (
        N_("Scanning"),
        N_("Your systems are probed from the Internet to find open doors (port scans)."),
    ),
    "sniffing": (N_("Sniffing"), N_("Network traffic intercepted or recorded (eavesdropping).")),
    "social-engineering": (
        N_("Social Engineering"),
        N_("Staff tricked into giving information, e.g. by a fake technician on the phone."),
    ),
    "ids-alert": (
        N_("Exploitation of Known Vulnerabilities"),
        N_("An attack on a known flaw of a system, detected or blocked by a security tool."),
    ),
    "brute-force": (
        N_("Login Attempts"),
        N_("Many attempts to guess passwords or to log in to an account."),
    ),
    "exploit": (N_("New Attack Signature"), N_("An attack of a new kind, using an unknown flaw.")),
    "privileged-account-compromise": (
        N_("Privileged Account Compromise"),
        N_("An administrator account was taken over."),
    ),
    "unprivileged-account-compromise": (
        N_("Unprivileged Account Compromise"),
        N_("An ordinary user account (e-mail, application) was taken over."),
    ),
    "application-compromise": (
        N_("Application Compromise"),
        N_("A website or application was hacked, e.g. through a software flaw."),
    ),
    "system-compromise": (
        N_("System Compromise"),
        N_("A computer or server was hacked: unknown logins or commands run by an intruder."),
    ),
    "burglary": (
        N_("Burglary"),
        N_("Physical break-in into an office, a server room or a data centre."),
    ),
    "dos": (
        N_("Denial of Service"),
        N_("A website or service made unavailable or very slow by an attack."),
    ),
    "ddos": (
        N_("Distributed Denial of Service"),
        N_("A website or service flooded with traffic coming from many sources at once."),
    ),
    "misconfiguration": (
        N_("Misconfiguration"),
        N_("A wrong setting made a service unavailable."),
    ),
    "sabotage": (
        N_("Sabotage"),
        N_("Deliberate physical damage: cut cables, fire, destroyed equipment."),
    ),
    "outage": (
        N_("Outage"),
        N_("A breakdown without malicious cause: power or cooling failure, natural disaster."),
    ),
    "unauthorised-information-access": (
        N_("Unauthorised Access to Information"),
        N_("Someone read data or documents they were not allowed to see."),
    ),
    "unauthorised-information-modification": (
        N_("Unauthorised Modification of Information"),
        N_("Data changed or encrypted without permission (e.g. ransomware), or a defaced website."),
    ),
    "data-loss": (N_("Data Loss"), N_("Data lost, e.g. a broken disk or a stolen laptop.")),
    "data-leak": (
        N_("Leak of Confidential Information"),
        N_("Confidential information disclosed: passwords, personal data, internal documents."),
    ),
    "unauthorised-use-of-resources": (
        N_("Unauthorised Use of Resources"),
        N_("Your systems used without permission for other purposes, e.g. mining cryptocurrency."),
    ),
    "copyright": (
        N_("Copyright"),
        N_("Pirated software or other copyrighted material installed or shared."),
    ),
    "masquerade": (
        N_("Masquerade"),
        N_("Someone is impersonating your organisation or one of its staff."),
    ),
    "phishing": (
        N_("Phishing"),
        N_("Fake e-mails or websites imitating a trusted body to steal passwords or bank details."),
    ),
    "weak-crypto": (
        N_("Weak Cryptography"),
        N_("A service reachable from the Internet uses outdated or weak encryption."),
    ),
    "ddos-amplifier": (
        N_("DDoS Amplifier"),
        N_(
            "A server reachable from the Internet can be misused to amplify attacks against others."
        ),
    ),
    "potentially-unwanted-accessible": (
        N_("Potentially Unwanted Accessible Services"),
        N_("A service that should not be reachable from the Internet is, e.g. remote desktop."),
    ),
    "information-disclosure": (
        N_("Information Disclosure"),
        N_("A service reachable from the Internet reveals internal information."),
    ),
    "vulnerable-system": (
        N_("Vulnerable System"),
        N_("A system with a known weakness: outdated software, missing security updates."),
    ),
    "other": (N_("Uncategorised"), N_("The incident fits none of the categories above.")),
    "undetermined": (
        N_("Undetermined"),
        N_("You do not know what kind of incident it is: the CERT will determine it."),
    ),
    "test": (N_("Test"), N_("A test report, not a real incident.")),
}

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


@dataclass(frozen=True)
class Choice:
    """One classification a reporter can pick: ``value`` is ``<class id>/<type id>``."""

    value: str
    name: str
    help: str


@dataclass(frozen=True)
class ChoiceGroup:
    id: str
    name: str
    help: str
    choices: tuple[Choice, ...]


def classification_groups(*, include_test: bool = False) -> list[ChoiceGroup]:
    """The RSIT classes in taxonomy order, each with its types (English, marked strings)."""
    groups = []
    for rsit_class in rsit_classes().values():
        if rsit_class.id == "test" and not include_test:
            continue
        name, help_text = RSIT_CLASSES[rsit_class.id]
        choices = tuple(
            Choice(f"{rsit_class.id}/{t.id}", *RSIT_TYPES[t.id]) for t in rsit_class.types
        )
        groups.append(ChoiceGroup(rsit_class.id, name, help_text, choices))
    return groups


def classification_label(category: str, type_id: str | None) -> tuple[str, str | None]:
    """(class name, type name) of a stored classification, untranslated."""
    name = RSIT_CLASSES.get(category, (category, ""))[0]
    return name, RSIT_TYPES.get(type_id, (type_id, ""))[0] if type_id else None


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
