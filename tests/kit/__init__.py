"""The shared test kit: helpers that tests in several packages use (issue 16 §5).

* :mod:`~tests.kit.factories`: per-slice factories (accounts; incidents through the real intake);
* :mod:`~tests.kit.world`: the world builder, known organisations and people;
* :mod:`~tests.kit.api`: the API client (bearer headers, the error envelope, API users);
* :mod:`~tests.kit.web`: the page client (CSRF tokens, signing in and out);
* the rest: hashing, SMTP, scheduler, jobs, events, outbox, threads, config environments.

Test modules import helpers from here, not from each other: a test module is free to move.
"""
