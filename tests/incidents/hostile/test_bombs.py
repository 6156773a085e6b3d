"""Bombs, on SQLite and PostgreSQL: JSON nested past any parser's stack in every JSON body of the
API and the TAXII server, a 42.zip-style archive and a billion-laughs SVG as attachments. A bomb
is refused with a 4xx or stored as the bytes it is, never expanded, never a 500."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.models import Attachment
from incidents.sharing.collections import COLLECTIONS
from incidents.sharing.taxii_params import TAXII_MEDIA
from tests.incidents.hostile.conftest import nothing_written
from tests.incidents.intake.test_api_attachments import upload
from tests.kit.api import PHISHING
from tests.kit.world import World

DEEP = 200_000  # far past CPython's recursion limit and any sane document


def json_routes(app: Flask) -> list[str]:
    """``METHOD path`` of every API route that reads a body, parameters filled with junk."""
    found = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & {"POST", "PATCH", "PUT"}
        if not rule.rule.startswith(("/api/v1/", "/taxii2/")) or not methods:
            continue
        path = rule.rule
        for part in path.split("<")[1:]:
            spec = part.split(">", 1)[0]
            path = path.replace(f"<{spec}>", "1" if spec.startswith("int:") else "x")
        found += [f"{m} {path}" for m in sorted(methods)]
    return sorted(found)


@pytest.mark.parametrize("bomb", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP])
def test_json_nested_past_the_stack_is_a_4xx_everywhere(
    app: Flask, client: FlaskClient, db_session: Session, world: World, bomb: str
) -> None:
    headers = world.headers(world.admin)
    routes = json_routes(app)
    assert len(routes) >= 25
    answers = {}
    with nothing_written(db_session):
        for route in routes:
            method, path = route.split(" ", 1)
            media = TAXII_MEDIA if path.startswith("/taxii2/") else "application/json"
            response = client.open(
                path, method=method, data=bomb, headers={**headers, "Content-Type": media}
            )
            answers[route] = response.status_code
    assert {r: s for r, s in answers.items() if not 400 <= s < 500} == {}
    assert {400, 422} & set(answers.values())  # the parsers were reached, not only routing


def zip_bomb() -> bytes:
    """A 42.zip-style archive: 64 MiB of zeros in each of two members, ~130 KiB on the wire."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in ("0.bin", "1.bin"):
            with archive.open(name, "w") as member:
                for _ in range(64):
                    member.write(bytes(1024 * 1024))
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text>'
    + b"<script>alert(1)</script></svg>\n"
)


@pytest.mark.parametrize(
    ("name", "content", "sniffed"),
    [
        ("archive.zip", zip_bomb(), "application/zip"),
        ("laughs.svg", BILLION_LAUGHS, "image/svg+xml"),
        ("laughs.xml", BILLION_LAUGHS.replace(b"<svg", b"<doc").replace(b"</svg>", b"</doc>"),
         "application/xml"),
    ],
)  # fmt: skip
def test_a_bomb_attachment_is_stored_as_sent_and_served_as_a_download(
    client: FlaskClient, db_session: Session, settings: dict[str, Any], world: World,
    name: str, content: bytes, sniffed: str,
) -> None:  # fmt: skip
    secret = world.token(world.reporter)
    reference = client.post(
        "/api/v1/incidents", json=PHISHING, headers=world.headers(world.reporter)
    ).get_json()["reference"]
    response = upload(client, reference, secret, content, name)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["size"] == len(content)
    assert response.get_json()["content_type"] == sniffed
    # on disk: the bytes sent, nothing unpacked or expanded beside them
    upload_dir = Path(settings["upload_dir"])
    files = [p for p in upload_dir.rglob("*") if p.is_file()]
    assert [p.read_bytes() == content for p in files] == [True]
    digest = hashlib.sha256(content).hexdigest()
    assert files[0].name == digest
    stored = db_session.scalars(select(Attachment)).one()
    assert stored.size == len(content)
    # the file's page and the download: never rendered inline, never expanded
    client.post("/logout")
    world.sign_in(client, world.analyst)
    download = client.get(f"/incidents/{reference}/attachments/{stored.id}")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.get_data() == content
    download.close()
    page = client.get(f"/incidents/{reference}")
    assert page.status_code == 200
    assert b"lollol" not in page.get_data() and b"<script>alert(1)" not in page.get_data()


def _deep_token(depth: int = 3000) -> str:
    """A page cursor (base64 JSON) nested ``depth`` deep: ~4 kB, inside a proxy's URL limit."""
    raw = b"[" * depth + b"]" * depth
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_page_cursors_nested_past_the_stack_are_4xx(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    token = _deep_token()
    assert len(token) < 8200
    api = world.headers(world.analyst)
    taxii = {**api, "Accept": TAXII_MEDIA}
    collection = COLLECTIONS[0].id
    answers = {
        "queue": world.sign_in(client, world.analyst).get("/queue", query_string={"after": token}),
        "api-incidents": client.get(
            "/api/v1/incidents", query_string={"after": token}, headers=api
        ),
        "api-bulletins": client.get(
            "/api/v1/bulletins", query_string={"after": token}, headers=api
        ),
        "taxii": client.get(
            f"/taxii2/vigie/collections/{collection}/objects/",
            query_string={"next": token},
            headers=taxii,
        ),
    }
    assert {
        name: r.status_code for name, r in answers.items() if not 400 <= r.status_code < 500
    } == {}
