"""Sharing out, never beyond TLP: an incident as a STIX 2.1 bundle and Vigie's TAXII 2.1 server
(``stix_objects``, ``shareable``, ``export``, ``collections``, ``taxii``), and the MISP event of an
incident (``misp``: the pure builder; ``misp_export``: who may export what; ``api_misp``/
``web_misp``: the API route and the file's download)."""
