"""Bulletins: maCERT-style advisories written, reviewed, published and distributed (see
``slice.py``)."""
