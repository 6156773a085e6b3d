"""Playbooks: OASIS CACAO 2.0 playbooks before and after incidents (see ``slice.py``)."""
