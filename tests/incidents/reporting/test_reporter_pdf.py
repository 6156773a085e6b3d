"""The reporter's PDF (issue 17): only what the reporter may read — checked on the text pdftotext
extracts, as a reporter and as staff asking for it — who may download which version, and the
Arabic PDF's Latin fragments in order with the footer reading "1 / N" (pages kept as PNG in
test-artifacts/pdf/)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from tests.incidents.reporting.reporter_scene import (
    ANSWER,
    ANSWER_FILE,
    REPLY,
    SECRETS,
    TITLE,
    ReporterScene,
    build,
)
from tests.kit.web import logout, sign_in
from tests.kit.world import World

BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "pdf"


@pytest.fixture
def scene(
    world: World, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> ReporterScene:
    return build(world, db_session, clock, Path(settings["upload_dir"]))


def pdf_text(response: TestResponse, tmp_path: Path, *, raw: bool = False) -> str:
    """The PDF's text (``raw``: in the order the glyphs are laid out, left to right — what a
    reader sees — instead of pdftotext's logical reordering)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.get_data())
    args = ["pdftotext", *(["-raw"] if raw else []), str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return BIDI_MARKS.sub("", text)  # pdftotext marks right-to-left runs with embeddings


def flat(text: str) -> str:
    return " ".join(text.split())


def url(scene: ReporterScene, lang: str = "fr", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"lang": lang, **params}.items())
    return f"/incidents/{scene.incident.reference}/report.pdf?{query}"


def assert_reporter_version(text: str, scene: ReporterScene) -> None:
    whole = flat(text)
    for name, secret in SECRETS.items():
        assert secret not in whole, f"the reporter's PDF shows the {name}: {secret}"
    assert scene.other.reference not in whole  # the other organisation's merged report
    assert scene.other.organisation.name not in whole
    assert "min-sante" not in whole
    assert REPLY in whole and ANSWER in whole and ANSWER_FILE in whole
    assert "evil.example" in whole  # their own report's observables


def test_the_reporter_gets_only_what_they_may_read(
    client: FlaskClient, world: World, scene: ReporterScene, tmp_path: Path
) -> None:
    sign_in(client, world.reporter)
    response = client.get(url(scene))
    assert response.headers["Content-Disposition"].endswith(f'"{scene.incident.reference}.pdf"')
    assert_reporter_version(pdf_text(response, tmp_path), scene)
    # asking for the CERT version changes nothing for a reporter
    assert_reporter_version(pdf_text(client.get(url(scene, version="cert")), tmp_path), scene)


def test_staff_download_both_versions(
    client: FlaskClient, world: World, scene: ReporterScene, tmp_path: Path
) -> None:
    sign_in(client, world.analyst)
    full = flat(pdf_text(client.get(url(scene)), tmp_path))
    for secret in (SECRETS["comment"], SECRETS["task"], SECRETS["assignee"]):
        assert secret in full
    assert SECRETS["staff_file"] in full and ANSWER_FILE in full
    response = client.get(url(scene, version="reporter"))
    name = f'"{scene.incident.reference}-reporter.pdf"'
    assert response.headers["Content-Disposition"].endswith(name)
    assert_reporter_version(pdf_text(response, tmp_path), scene)
    assert client.get(url(scene, version="everything")).status_code == 422
    logout(client)
    sign_in(client, world.lead)
    assert SECRETS["comment"] in flat(pdf_text(client.get(url(scene)), tmp_path))


def test_a_reporter_of_another_organisation_gets_404(
    client: FlaskClient, world: World, scene: ReporterScene
) -> None:
    sign_in(client, world.other_reporter)
    assert client.get(url(scene)).status_code == 404
    assert client.get(url(scene, version="reporter")).status_code == 404


def test_the_links_are_on_track_and_on_the_file(
    client: FlaskClient, world: World, scene: ReporterScene
) -> None:
    reference = scene.incident.reference
    sign_in(client, world.reporter)
    page = client.get(f"/track/{reference}").get_data(as_text=True)
    assert f"/incidents/{reference}/report.pdf?version=reporter" in page
    logout(client)
    sign_in(client, world.analyst)
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    assert f'href="/incidents/{reference}/report.pdf"' in page
    assert f"/incidents/{reference}/report.pdf?version=reporter" in page


def test_the_arabic_pdf_keeps_latin_fragments_in_order_and_numbers_pages(
    client: FlaskClient, world: World, scene: ReporterScene, tmp_path: Path
) -> None:
    sign_in(client, world.reporter)
    response = client.get(url(scene, "ar"))
    # the pages as images, kept as test artefacts (looked at by a person), failing or not
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-reporter-ar.pdf").write_bytes(response.get_data())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", str(ARTIFACTS / "report-reporter-ar.pdf"),
         str(ARTIFACTS / "report-reporter-ar")],
        check=True,
    )  # fmt: skip
    seen = pdf_text(response, tmp_path, raw=True)  # left to right as laid out
    assert TITLE in seen  # not "Hameçonnage … - 2026-01 ]URGENT["
    assert "hxxps://evil[.]example/" in seen and "/hxxps" not in seen  # the wrapped link
    assert "alerte[@]evil[.]example" in seen and "203.0.113.9" in seen
    assert scene.incident.reference in seen
    pages = [page for page in seen.split("\f") if page.strip()]
    assert len(pages) >= 2  # "1 / 2" cannot be read backwards as "2 / 1"
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"(?m)^{number} / {len(pages)}$", page), page[-200:]
    logout(client)
    sign_in(client, world.analyst)
    staff = client.get(url(scene, "ar"))
    assert "hxxps://evil[.]example/login" in pdf_text(staff, tmp_path)
    (ARTIFACTS / "report-cert-ar.pdf").write_bytes(staff.get_data())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", str(ARTIFACTS / "report-cert-ar.pdf"),
         str(ARTIFACTS / "report-cert-ar")],
        check=True,
    )  # fmt: skip
