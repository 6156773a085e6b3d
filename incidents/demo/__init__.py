"""Demo data for ``cert demo``: realistic reports (``reports``) and synthetic incidents in bulk
(``synthetic``, ``synthetic_rows``)."""
