"""The RSIT classification as reporters read it (English source strings; Flask-free): each
class and type with a plain-language description, and the groups the report form offers.

The names are the exact names of ``data/rsit.json``; the descriptions are written for a ministry
clerk, not for an analyst. Strings are only *marked* (``N_``); pages translate them when
rendering. :mod:`incidents.rules.labels` re-exports these names for the pages and templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.rules.taxonomy import rsit_classes


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction and return it as it is (a plain ``str``, unlike
    :func:`core.i18n.N_`: these tables are plain strings that pages translate)."""
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
