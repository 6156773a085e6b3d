"""Incidents shared out, never beyond their TLP: the MISP event of an incident (``misp``: the
pure builder; ``misp_export``: who may export what; ``api_misp``/``web_misp``: the API route and
the file's download)."""
