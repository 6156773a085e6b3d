"""Sharing out, never beyond TLP: an incident as a STIX 2.1 bundle and Vigie's TAXII 2.1 server."""
