"""The analysts' triage queue: filter (``filter``), keyset pagination (``keyset``), full-text search
(``search``), the query (``query``), bulk actions (``bulk``), CSV export (``csv_export``), saved
filters, and the page (``forms``, ``web``)."""
