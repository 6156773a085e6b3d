"""Pure rules of incidents: priority matrix and SLA targets (``priority``), SLA state (``sla``),
RSIT taxonomy (``taxonomy``) and the labels people read (``labels``). No database access, no
Flask."""
