"""The reporter's side of an incident: status page (``/track/<reference>``), their answer, and the
organisation's list (``/incidents/mine``), in ``web``."""
