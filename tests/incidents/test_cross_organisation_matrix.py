"""Cross-organisation scenarios of the authorisation matrix: what each role reads, through every
surface, of incidents merged and linked across organisations and TLP levels.

The scene (``tests.incidents.cross_scene``): the Health ministry's report merged into the
Interior ministry's, a Health TLP:RED report merged into an Interior TLP:RED one, the latter linked
to the first. Each role fetches every surface of the four incidents — API detail, timeline and
links, ``/track``, the file, the PDF report (text extracted), the attachment of the merged report
— and the lists (API list, ``/incidents/mine``, ``/queue``, ``/queue.csv``). Whatever the answer
(200, redirect, 404), its body must contain none of the values the role may not see (another
organisation's observables, titles, references and file names; a TLP:RED incident's for analysts
not named on it), and the union of the answers must contain those it may see (so that the test
cannot pass by showing nothing). Both databases.
"""

from __future__ import annotations

import html
import io
import json

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.models import User
from tests.incidents.cross_scene import Cross
from tests.kit.callers import Caller

ANON, OWN, OTHER, ANALYST, ASSIGNEE, LEAD = ROLES = (
    "anonymous",
    "reporter",  # of the Interior ministry (survivor, red)
    "other-reporter",  # of the Health ministry (duplicate, red_duplicate)
    "analyst",  # sees the TLP:AMBER incidents, is not named on the TLP:RED ones
    "assignee",  # the assignee of the Interior TLP:RED incident only
    "lead",  # sees everything
)
INCIDENTS = ("survivor", "duplicate", "red", "red_duplicate")


def _user(cross: Cross, role: str) -> User | None:
    w = cross.world
    users = {OWN: w.reporter, OTHER: w.other_reporter, ANALYST: w.analyst, LEAD: w.lead}
    return {**users, ASSIGNEE: cross.assignee}.get(role)


def _hidden_and_shown(cross: Cross, role: str) -> tuple[list[str], list[str]]:
    """(what ``role`` must never read, what it must read somewhere)."""
    every = {name: cross.secrets(name) for name in INCIDENTS}
    rd = cross.red_duplicate
    seen = {
        ANON: (),
        OWN: ("survivor", "red"),
        OTHER: ("duplicate", "red_duplicate"),
        ANALYST: ("survivor", "duplicate"),
        ASSIGNEE: ("survivor", "duplicate", "red", "red_duplicate"),
        LEAD: INCIDENTS,
    }[role]
    shown = [value for name in seen for value in every[name]]
    hidden = [value for name in INCIDENTS if name not in seen for value in every[name]]
    if role == ASSIGNEE:  # its observables now sit on the RED incident it sees; itself, no
        shown = [v for v in shown if v not in {rd.reference, rd.title}]
        hidden = [rd.reference, rd.title]
    return hidden, shown


def _urls(cross: Cross) -> list[tuple[str, str]]:
    """(URL, the reference it names, which its answer may repeat whoever asks)."""
    urls = [(u, "") for u in ("/api/v1/incidents?limit=100", "/incidents/mine", "/queue")]
    urls.append(("/queue.csv", ""))
    for name in INCIDENTS:
        ref = getattr(cross, name).reference
        api, web = f"/api/v1/incidents/{ref}", f"/incidents/{ref}"
        named = [api, f"{api}/timeline", f"{api}/links", f"/track/{ref}", web]
        named += [f"{web}/report.pdf"]
        named += [f"{web}/attachments/{a.id}" for a in cross.duplicate.attachments]
        urls += [(url, ref) for url in named]
    return urls


def _body(response: TestResponse) -> str:
    data = response.get_data()
    response.close()
    if response.mimetype == "application/pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    if response.mimetype == "application/json":  # as stored, not \u-escaped
        return json.dumps(json.loads(data), ensure_ascii=False)
    return html.unescape(data.decode("utf-8", "replace"))


def _squeeze(value: str) -> str:
    """Without white space: a PDF may break a long value over two lines."""
    return "".join(value.split())


# make test: the roles that must be kept from most of the scene; make proof: every role
@pytest.mark.parametrize(
    "role",
    [r if r in (OTHER, ANALYST) else pytest.param(r, marks=pytest.mark.proof) for r in ROLES],
)
def test_each_role_reads_only_what_it_may(
    role: str, cross: Cross, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    caller = Caller(client, db_session, clock, _user(cross, role))
    hidden, shown = _hidden_and_shown(cross, role)
    leaks: dict[str, list[str]] = {}
    everything = []
    for url, named in _urls(cross):
        response = caller.send(f"GET {url}", url)
        assert response.status_code < 500, url
        body = _body(response)
        everything.append(body)
        if named and response.status_code != 200:
            body = body.replace(named, "")  # "no incident <the reference asked for>", /login?next=
        found = [v for v in hidden if v in body or _squeeze(v) in _squeeze(body)]
        if found:
            leaks[f"{url} ({response.status_code})"] = found
    assert leaks == {}
    read = "\n".join(everything)
    assert [v for v in shown if v not in read] == []
