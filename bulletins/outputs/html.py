"""A rendition of a bulletin, registered in :mod:`bulletins.outputs.formats` at import."""

from __future__ import annotations
