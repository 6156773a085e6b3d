"""CSAF 2.0: a bulletin as a CSAF document (with the standard's mandatory tests), and vendors'
CSAF advisories imported as drafts."""
