"""The CSAF import page (``/bulletins/import-csaf``), on both databases: CERT analysts upload a
vendor's advisory or give its URL and land on the new draft; broken documents are listed on the
form with nothing written; reporters and anonymous visitors get no page; CSRF is required."""

from __future__ import annotations

import io
import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.models import Bulletin, BulletinSource
from core.identity.models import User
from feeds.settings import FeedSettings
from tests.bulletins.csaf_oasis import VENDORS
from tests.feeds.served import serve
from tests.kit.web import csrf_token, sign_in, text

PAGE = "/bulletins/import-csaf"
BSI = VENDORS / "bsi-2022-0001.json"


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Bulletin)) or 0


def _upload(client: FlaskClient, content: bytes, name: str = "advisory.json") -> object:
    token = csrf_token(text(client.get(PAGE)))
    return client.post(
        PAGE,
        data={"csrf_token": token, "document": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_only_cert_staff_get_the_page(
    client: FlaskClient, db_session: Session, reporter: User
) -> None:
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    sign_in(client, reporter)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"url": "https://x.example/a.json"}).status_code in (400, 403)
    assert _count(db_session) == 0


def test_an_analyst_uploads_an_advisory_and_lands_on_the_draft(
    client: FlaskClient, db_session: Session, analyst: User
) -> None:
    sign_in(client, analyst)
    page = text(client.get(PAGE))
    assert 'enctype="multipart/form-data"' in page and 'name="url"' in page
    response = _upload(client, BSI.read_bytes(), "bsi-2022-0001.json")
    assert response.status_code == 302, text(response)  # type: ignore[arg-type]
    bulletin = db_session.scalar(select(Bulletin))
    assert bulletin is not None and bulletin.source == BulletinSource.CSAF
    assert response.headers["Location"] == f"/bulletins/{bulletin.id}"  # type: ignore[attr-defined]
    assert bulletin.source_ref == "bsi-2022-0001.json (BSI-2022-0001)"


def test_broken_documents_are_listed_on_the_form(
    client: FlaskClient, db_session: Session, analyst: User
) -> None:
    sign_in(client, analyst)
    doc = json.loads(BSI.read_text("utf-8"))
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-9999")
    doc["document"]["tracking"]["version"] = "7"
    response = _upload(client, json.dumps(doc).encode())
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = text(response)  # type: ignore[arg-type]
    assert "tests obligatoires" in page and "6.1.1 /vulnerabilities/0/product_status" in page
    assert "6.1.16 /document/tracking/version" in page
    for raw, expected in (
        (b"not json", "pas du JSON"),
        (b"{}\x00", "octets NUL"),
        (b"", "Le fichier est vide"),
    ):
        response = _upload(client, raw)
        assert response.status_code == 422 and expected in text(response)  # type: ignore[attr-defined,arg-type]
    token = csrf_token(text(client.get(PAGE)))
    nothing = client.post(PAGE, data={"csrf_token": token})
    assert nothing.status_code == 422 and "Choisissez un fichier ou donnez une URL" in text(nothing)
    no_csrf = client.post(
        PAGE,
        data={"document": (io.BytesIO(BSI.read_bytes()), "a.json")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code in (400, 422)
    assert _count(db_session) == 0


def test_an_advisory_is_fetched_from_its_url(
    app: Flask, client: FlaskClient, db_session: Session, analyst: User
) -> None:
    sign_in(client, analyst)
    with serve(VENDORS) as served:
        url = f"{served.base}/rhsa-2021_5217.json"
        token = csrf_token(text(client.get(PAGE)))
        refused = client.post(PAGE, data={"csrf_token": token, "url": url})
        assert refused.status_code == 422 and "private or reserved address" in text(refused)
        app.extensions["feeds"] = FeedSettings(allow_private=True)
        fetched = client.post(PAGE, data={"csrf_token": token, "url": url})
    assert fetched.status_code == 302, text(fetched)
    bulletin = db_session.scalar(select(Bulletin))
    assert bulletin is not None and bulletin.source_ref == f"{url} (RHSA-2021:5217)"
    assert bulletin.tlp == "TLP:CLEAR" and bulletin.cves == ["CVE-2021-4133"]
