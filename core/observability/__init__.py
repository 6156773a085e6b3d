"""Prometheus metrics of Vigie (Flask-free): what the web kit's ``/metrics`` serves.

* :mod:`~core.observability.requests`: the in-process request counters and latency histogram,
  kept in prometheus-client's multiprocess files when ``PROMETHEUS_MULTIPROC_DIR`` is set (several
  gunicorn workers: :mod:`~core.observability.process`);
* :mod:`~core.observability.database`: the series read from the database at scrape time by a
  custom collector (outbox, domain events, jobs, schema revision, and the slices' and the
  application's sources), exact across processes and hosts, absent with ``vigie_database_up 0``
  when the database does not answer;
* :mod:`~core.observability.kernel`: the kernel's aggregate queries behind those series.

Every label has a bounded set of values (statuses, job names, route templates): never a raw
path, an incident reference, an address or an organisation's name.
"""
