"""Reporting: dashboard figures (``dashboard``), periods, SVG charts, periodic statistics
(``stats``), the PDF incident report (``report_pdf``) and their pages (``web``)."""
