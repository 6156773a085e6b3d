"""``cert demo``: realistic published bulletins (a vulnerability advisory, an alert with
indicators, a weekly digest) so that a new installation shows the archive, the feed and the API
with content."""

from __future__ import annotations
