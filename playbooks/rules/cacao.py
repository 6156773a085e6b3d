"""OASIS CACAO 2.0 (CS01) names Vigie relies on, in one place (pure): step and command types,
identifier and variable grammars, playbook types by phase, and the variables Vigie itself
provides to a run (``CONTEXT_VARIABLES``). See ``standards.md`` §6."""

from __future__ import annotations

import re
from typing import Final

SPEC_VERSION: Final = "cacao-2.0"
CACAO_TC_IDENTITY: Final = "identity--5abe695c-7bd5-4c31-8824-2528696cdbf1"

# identifiers: "<type>--<uuid>" (CS01 §10.10; the schemas' identifier.json)
IDENTIFIER = re.compile(
    r"^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}"
    r"-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
# variable names (CS01 §10.18): "__name__"
VARIABLE_NAME = re.compile(r"^__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__$")
# references in strings: "__name__:value" (CS01) and "$$name$$" (CACAO 1.x, still written)
VARIABLE_REFERENCE = re.compile(
    r"(?P<cacao>__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__):value|\$\$(?P<legacy>[a-zA-Z_][a-zA-Z0-9_-]{0,199})\$\$"
)

STEP_TYPES: Final = frozenset(
    {
        "start",
        "end",
        "action",
        "playbook-action",
        "parallel",
        "if-condition",
        "while-condition",
        "switch-condition",
    }
)
# command-type-ov: the vocabulary; Vigie runs "manual", "http-api" (allow-listed hosts) and its
# own "x-vigie" actions (playbooks.rules.vocabulary); the others are refused at import
COMMAND_TYPES: Final = frozenset(
    {
        "manual",
        "bash",
        "caldera-cmd",
        "elastic",
        "http-api",
        "jupyter",
        "kestrel",
        "openc2-http",
        "powershell",
        "sigma",
        "ssh",
        "yara",
    }
)
VIGIE_COMMAND: Final = "x-vigie"
RUNNABLE_COMMANDS: Final = frozenset({"manual", "http-api", VIGIE_COMMAND})

VARIABLE_TYPES: Final = frozenset(
    {
        "bool",
        "dictionary",
        "float",
        "hexstring",
        "integer",
        "ipv4-addr",
        "ipv6-addr",
        "long",
        "mac-addr",
        "hash",
        "md5-hash",
        "sha256-hash",
        "string",
        "uri",
        "uuid",
    }
)

# playbook-type-ov, by phase (standards.md §6.5)
BEFORE_TYPES: Final = frozenset({"prevention", "detection", "notification"})
AFTER_TYPES: Final = frozenset({"investigation", "mitigation", "remediation"})
PLAYBOOK_TYPES: Final = BEFORE_TYPES | AFTER_TYPES | {"attack", "engagement"}

PLAYBOOK_ACTIVITIES: Final = frozenset(
    {
        "compose-content",
        "deliver-content",
        "identify-audience",
        "identify-channel",
        "scan-system",
        "match-indicator",
        "analyze-collected-data",
        "identify-indicators",
        "scan-vulnerabilities",
        "configure-systems",
        "restrict-access",
        "disconnect-system",
        "eliminate-risk",
        "revert-system",
        "restore-data",
        "restore-capabilities",
    }
)

# What Vigie gives every run (read-only, string values; empty when the run has no incident or
# no organisation). A document may use them without declaring them.
CONTEXT_VARIABLES: Final = frozenset(
    {
        "__incident_reference__",
        "__incident_category__",  # RSIT class id
        "__incident_type__",  # RSIT type id
        "__incident_priority__",  # P1..P4
        "__incident_tlp__",
        "__incident_status__",
        "__incident_url__",  # the incident's page for CERT staff
        "__organisation_id__",
        "__organisation_name__",
        "__organisation_sector__",
        "__run_id__",
        "__today__",  # YYYY-MM-DD in CERT_TIMEZONE
    }
)


def phase_of(playbook_types: list[str] | tuple[str, ...]) -> str:
    """``"after"`` when any type is an after-incident one, else ``"before"`` (a playbook typed
    ``notification`` only, or untyped, runs before incidents)."""
    return "after" if any(t in AFTER_TYPES for t in playbook_types) else "before"
