"""Threat intelligence: feeds (STIX 2.1, TAXII 2.1, MISP, blocklists) into the indicator index."""
