"""Browser tests: the real application behind a real WSGI server, driven by Debian's Chromium.

* ``live_server`` (per backend, for the whole run): ``create_app`` on a database of its own with
  committed data, served by werkzeug on 127.0.0.1 and a free port, in a thread.
* ``browser`` (one per run): headless Chromium from ``/usr/bin/chromium`` (the ``chromium``
  package, installed by ``make test``); Playwright never downloads a browser here.
* ``page``: a fresh browser context (cookies, storage) per test, with a dialog and console watch.
* ``shoot(page, name)``: a full-page screenshot under the artefact directory
  (``$CERT_TEST_ARTIFACTS``, default ``test-artifacts/browser``), printed in the test output.

Without Chromium (or the ``playwright`` package) the tests are skipped with the reason; under
``CERT_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.

``make test`` runs one of each browser test's language × width combinations on SQLite (the first
right-to-left one, where layouts break first, else the first) and one journey on PostgreSQL
(:data:`POSTGRES_SMOKE`); ``make proof`` runs every other combination on both backends (marker
``proof``, :func:`pytest_collection_modifyitems`; tests that loop over the languages themselves
take them from :func:`languages`). The browser tests are about rendering — layout, right to
left, scripts, what a person sees and clicks — which does not depend on the database; what the
database does is proven by the service, web and API tests on both backends, and ``make proof``
proves that every page and journey in every language and width works against the
PostgreSQL-backed live server too. Each combination cost ~3–9 s: ``make test`` runs about 40 %
of the sweep's time.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cert.app import create_app
from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.identity.models import Role, User
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.dbs import BACKENDS, TestDatabase, create_database
from tests.kit.factories import MINIMAL, PASSWORD, make_org, make_user, report

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page, Playwright

CHROMIUM = Path(os.environ.get("CERT_TEST_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("CERT_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("CERT_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "browser"
TIMEOUT_MS = 10_000  # auto-waiting limit of every action and expectation
_taken: list[Path] = []  # this run's screenshots

SECRET_KEY = "browser-test-secret-" + "x" * 32  # the live server's CERT_SECRET_KEY


def _unavailable() -> str | None:
    """Why no browser test can run here, or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found (Debian package `chromium`; `make test` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` Python package is not installed (`pip install -e '.[dev]'`)"
    return None


def browser_or_skip(*, module: bool = False) -> None:
    """Skip (or fail, under CERT_REQUIRE_BROWSER=1) when Chromium or Playwright is missing.

    Test modules call it with ``module=True`` before importing Playwright.
    """
    reason = _unavailable()
    if reason is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason}; CERT_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


# ---------------------------------------------------------------- the application
@dataclass
class LiveServer:
    """The served application, its database and a way to create committed rows."""

    url: str
    database: TestDatabase
    intake: IntakeSettings
    clock: SystemClock = field(default_factory=SystemClock)

    def session(self) -> Session:
        return Session(self.database.engine, expire_on_commit=False)

    def user(self, *, role: str = Role.REPORTER, locale: str = "en", **kwargs: Any) -> User:
        """A committed user (reporters get a ministry, staff the CERT) with ``PASSWORD``."""
        with self.session() as session:
            if "org" not in kwargs and role == Role.REPORTER:
                kwargs["org"] = make_org(session, self.clock, name_ar="وزارة الاختبار")
            user = make_user(session, self.clock, role=role, locale=locale, **kwargs)
            session.commit()
            return user

    def incident(self, reporter: User, **fields: Any) -> Incident:
        """A committed incident reported by ``reporter`` through the intake service."""
        with self.session() as session:
            incident = report(
                session, self.clock, reporter, MINIMAL, settings=self.intake, **fields
            )
            session.commit()
            return incident


class QuietHandler(WSGIRequestHandler):
    """No access-log line per request (a failing test's output stays readable)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Late:
    """A WSGI application set once the server is listening (the settings may need its URL)."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@contextmanager
def serving(
    backend: str,
    directory: Path,
    settings: Callable[[str], dict[str, Any]] | None = None,
) -> Iterator[LiveServer]:
    """``create_app`` on a database of its own (``backend``) with the live servers' settings and
    ``settings(url)`` over them, served on 127.0.0.1 in a thread until the block ends."""
    database = create_database(backend, directory)
    engine = make_engine(database.url)  # the app's own pool, closed at the end
    late = _Late()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, late, threaded=True, request_handler=QuietHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    late.app = create_app(
        {
            "instance_dir": directory / "instance",
            "upload_dir": directory / "uploads",
            "database_url": database.url,
            "secret_key": SECRET_KEY,
            "smtp_url": "smtp://127.0.0.1:2525",  # never reached: mail stays in the outbox
            "mail_from": "Vigie <cert@example.test>",
            "login_rate_limit": "1000 per minute",  # every test signs in from 127.0.0.1
            **(settings(url) if settings is not None else {}),
        },
        session_factory=make_session_factory(engine),
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url, database, late.app.extensions["incidents"])
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        engine.dispose()
        database.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    browser_or_skip()  # before spending time on a database and a server
    directory = tmp_path_factory.mktemp(f"live-{request.param}")
    # the two-factor tests start a live server of their own (tests/browser/test_mfa_signin.py)
    with serving(request.param, directory, lambda url: {"mfa_required_roles": ""}) as server:
        yield server


# ---------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


def pytest_configure(config: pytest.Config) -> None:
    """The screenshot directory, emptied once a run (by pytest-xdist's controller, not by each
    worker, which would delete the other workers' screenshots): an old PNG must not pass for this
    run's."""
    if not hasattr(config, "workerinput"):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Watch:
    """What a page did that a test may want to forbid: dialogs opened, CSP violations logged."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, watch: Watch) -> Iterator[Page]:
    """A page in a context of its own (no cookie shared with other tests)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="fr-FR"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    yield page
    context.close()


@pytest.fixture
def shoot(artifacts: Path, live_server: LiveServer) -> Any:
    """``shoot(page, "track-ar")``: save a full-page screenshot and print where it is."""

    def save(page: Page, name: str) -> Path:
        path = artifacts / f"{name}-{live_server.database.backend}.png"
        page.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        print(f"screenshot: {path}")
        return path

    return save


LANGUAGES = (("fr", "ltr"), ("en", "ltr"), ("ar", "rtl"))


def languages(live_server: LiveServer) -> tuple[tuple[str, str], ...]:
    """The (language, direction) pairs a test that folds the languages into one loop goes
    through: all three on SQLite, French only on PostgreSQL (one smoke per page, as for the
    parametrised matrices: see the module docstring)."""
    return LANGUAGES if live_server.database.backend == "sqlite" else LANGUAGES[:1]


def sign_in(page: Page, user: User, *, password: str = PASSWORD) -> None:
    """Fill the login form as a person would, and wait for the home page."""
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", password)
    page.locator("main form [type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def no_sideways_scroll(page: Page, settle_ms: int = 3_000) -> None:
    """The page does not scroll sideways: once laid out, it is no wider than the viewport.
    Polled for up to ``settle_ms`` (a collapse still animating, a font swapping in, a page busy on
    a loaded machine); a real overflow stays, and fails with the width measured."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    limit = page.viewport_size["width"] if page.viewport_size else 0
    try:
        page.wait_for_function(
            "limit => document.documentElement.scrollWidth <= limit", arg=limit, timeout=settle_ms
        )
    except PlaywrightTimeout:
        width = page.evaluate("document.documentElement.scrollWidth")
        raise AssertionError(f"the page is {width}px wide (viewport {limit}px)") from None


# the one browser journey ``make test`` also runs against the PostgreSQL-backed live server
POSTGRES_SMOKE = {"test_an_analyst_handles_an_incident_and_the_reporter_answers"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``proof`` (``make proof``, not ``make test``) every combination of a browser test
    but one on SQLite (its first right-to-left one, else its first) and, on PostgreSQL, the first
    of :data:`POSTGRES_SMOKE`'s journeys."""
    here = Path(__file__).parent
    groups: dict[tuple[Any, ...], list[tuple[pytest.Item, bool]]] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or here not in item.path.parents:
            continue
        values = set(map(str, callspec.params.values()))
        backend = "postgresql" if "postgresql" in values else "sqlite"  # live_server, mfa_server
        name = getattr(item, "originalname", item.name)
        if backend != "sqlite" and name not in POSTGRES_SMOKE:
            item.add_marker(pytest.mark.proof)
            continue
        groups.setdefault((item.path, name, backend), []).append((item, "ar" in values))
    for combinations in groups.values():
        arabic = [item for item, rtl in combinations if rtl]
        kept = arabic[0] if arabic else combinations[0][0]
        for item, _ in combinations:
            if item is not kept:
                item.add_marker(pytest.mark.proof)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where this run's screenshots are (look at them: layout bugs pass every assertion)."""
    if _taken:
        terminalreporter.write_sep("-", f"browser screenshots: {len(_taken)} in {ARTIFACTS}")
