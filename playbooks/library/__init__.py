"""The library: CACAO documents validated, imported with their versions, exported; the
built-in playbooks."""
