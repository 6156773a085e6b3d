"""Incident intake: the submission use case (``service``: duplicates, priority, SLA, observables),
references, idempotency keys, attachments, the acknowledgement mail, and its adapters (report form
``forms``/``web``, ``POST /api/v1/incidents`` in ``api``)."""
