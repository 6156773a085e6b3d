"""STIX 2.1: a bulletin as a ``report`` bundle, also served in Vigie's TAXII collection at its
TLP."""
