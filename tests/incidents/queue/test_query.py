"""The triage queue's read side: every filter and sort, keyset pages, counts, visibility, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from incidents.models import Incident, IncidentStatus
from incidents.queue.query import QueueFilter, queue_page, queue_rows
from incidents.rules.sla import sla_state
from tests.incidents.queue.helpers import page
from tests.kit.factories import actor_of, make_user, report


# ---------------------------------------------------------------- filters
def test_status_filters_and_the_open_shorthand(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    new = report(db_session, clock, interieur).reference
    triaged = report(db_session, clock, interieur, state={"status": IncidentStatus.TRIAGED})
    closed = report(db_session, clock, interieur, state={"status": IncidentStatus.CLOSED})
    assert page(db_session, analyst, clock, status="open") == [triaged.reference, new]
    assert page(db_session, analyst, clock, status=["closed", "new"]) == [closed.reference, new]
    assert page(db_session, analyst, clock, status="closed,triaged") == [
        closed.reference,
        triaged.reference,
    ]


def test_class_priority_tlp_organisation_and_sector_filters(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    sante: Organisation,
    analyst: User,
) -> None:
    phishing = report(db_session, clock, interieur).reference  # fraud, high × high → P2
    malware = report(
        db_session, clock, sante, category="malicious-code", type="infected-system",
        impact="low", urgency="low", tlp="TLP:GREEN",
    ).reference  # fmt: skip
    assert page(db_session, analyst, clock, category="malicious-code") == [malware]
    assert page(db_session, analyst, clock, priority="P2") == [phishing]
    assert page(db_session, analyst, clock, priority=["P4", "P2"]) == [malware, phishing]
    assert page(db_session, analyst, clock, tlp="green") == [malware]
    assert page(db_session, analyst, clock, organisation="min-interieur") == [phishing]
    assert page(db_session, analyst, clock, sector="health") == [malware]
    assert page(db_session, analyst, clock, sector="health", priority="P2") == []


def test_assignee_me_none_email_and_id(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    other = make_user(db_session, clock, role=Role.ANALYST, email="autre@macert.gov.ma")
    mine = report(db_session, clock, interieur, state={"assignee_id": analyst.id})
    theirs = report(db_session, clock, interieur, state={"assignee_id": other.id})
    nobody = report(db_session, clock, interieur).reference
    assert page(db_session, analyst, clock, assignee="me") == [mine.reference]
    assert page(db_session, analyst, clock, assignee="none") == [nobody]
    assert page(db_session, analyst, clock, assignee="Autre@MACERT.gov.ma") == [theirs.reference]
    assert page(db_session, analyst, clock, assignee=str(other.id)) == [theirs.reference]


def test_sla_due_soon_and_breached(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    now = clock.now()
    hour = dt.timedelta(hours=1)
    late = report(db_session, clock, interieur, state={"ack_due_at": now - hour}).reference
    soon = report(db_session, clock, interieur, state={"ack_due_at": now + 2 * hour}).reference
    acked = report(
        db_session, clock, interieur,
        state={"ack_due_at": now - hour, "acknowledged_at": now - 2 * hour,
               "status": IncidentStatus.TRIAGED, "resolve_due_at": now + 100 * hour},
    ).reference  # fmt: skip
    done = report(
        db_session, clock, interieur,
        state={"ack_due_at": now - hour, "resolve_due_at": now - hour,
               "status": IncidentStatus.CLOSED},
    ).reference  # fmt: skip
    assert page(db_session, analyst, clock, sla="breached") == [late]
    # the clock moved on 4 minutes: "soon" is due in 1h56, the others are not due within 24 h
    assert page(db_session, analyst, clock, sla="due_soon", due_within="1") == []
    assert page(db_session, analyst, clock, sla="due_soon", due_within="2") == [soon]
    assert acked not in page(db_session, analyst, clock, sla="due_soon")
    assert done not in page(db_session, analyst, clock, sla="breached")
    incident = db_session.query(Incident).filter_by(reference=late).one()
    assert sla_state(incident, clock.now(), dt.timedelta(hours=24)) == "overdue"  # sla=breached
    closed = db_session.query(Incident).filter_by(reference=done).one()
    assert sla_state(closed, clock.now(), dt.timedelta(hours=24)) == "missed"  # closed late


def test_received_date_range_is_inclusive_in_the_given_zone(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    zone = dt.timezone(dt.timedelta(hours=1))
    clock.set(dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))  # 2 March 00:30 at UTC+1
    march_2 = report(db_session, clock, interieur).reference
    clock.set(dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
    march_5 = report(db_session, clock, interieur).reference
    f = QueueFilter.from_args({"received_from": "2026-03-02", "received_to": "2026-03-02"})
    items = queue_page(db_session, actor_of(analyst), f, clock=clock, tz=zone).items
    assert [i.reference for i in items] == [march_2]
    assert page(db_session, analyst, clock, received_from="2026-03-02") == [march_5]
    assert page(db_session, analyst, clock, received_to="2026-03-05") == [march_5, march_2]


# ---------------------------------------------------------------- sorts and pages
SORTS = ["received", "priority", "status", "sla", "organisation", "reference"]


@pytest.mark.parametrize("sort", SORTS + [f"-{s}" for s in SORTS])
def test_keyset_pages_neither_skip_nor_repeat_with_ties(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    sante: Organisation,
    analyst: User,
    sort: str,
) -> None:
    same_time = clock.now()
    for n in range(7):  # ties on every key: same organisation, priority, status, received
        clock.set(same_time if n < 4 else same_time + dt.timedelta(minutes=n))
        report(db_session, clock, interieur if n % 2 else sante, state={"received_at": same_time})
    everything = queue_page(
        db_session, actor_of(analyst), QueueFilter.from_args({"sort": sort}), clock=clock, limit=100
    ).items
    seen: list[str] = []
    f = QueueFilter.from_args({"sort": sort})
    while True:
        result = queue_page(db_session, actor_of(analyst), f, clock=clock, limit=3)
        assert result.total == 7
        seen += [i.reference for i in result.items]
        if result.next is None:
            break
        f = QueueFilter.from_args({"sort": sort, "after": result.next})
    assert seen == [i.reference for i in everything]
    assert len(set(seen)) == 7
    # and back: the page before the last one is the second page
    back = queue_page(
        db_session, actor_of(analyst),
        QueueFilter.from_args({"sort": sort, "before": result.previous}), clock=clock, limit=3,
    )  # fmt: skip
    assert [i.reference for i in back.items] == seen[3:6]
    assert back.previous is not None and back.next is not None


def test_sorts_order_by_their_column(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    sante: Organisation,
    analyst: User,
) -> None:
    low = report(db_session, clock, interieur, impact="low", urgency="low").reference  # P4
    high = report(db_session, clock, sante, impact="critical", urgency="critical").reference  # P1
    assert page(db_session, analyst, clock, sort="priority") == [high, low]
    assert page(db_session, analyst, clock, sort="-priority") == [low, high]
    assert page(db_session, analyst, clock, sort="sla") == [high, low]  # P1: acknowledge in 1 h
    assert page(db_session, analyst, clock, sort="reference") == [low, high]
    by_org = page(db_session, analyst, clock, sort="organisation")
    assert by_org == ([low, high] if interieur.name < sante.name else [high, low])


def test_count_is_capped(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    import incidents.queue.query as queue

    for _ in range(3):
        report(db_session, clock, interieur)
    old, queue.COUNT_CAP = queue.COUNT_CAP, 2
    try:
        result = queue_page(db_session, actor_of(analyst), QueueFilter(), clock=clock, limit=1)
    finally:
        queue.COUNT_CAP = old
    assert (result.total, result.more) == (2, True)
    result = queue_page(db_session, actor_of(analyst), QueueFilter(), clock=clock, limit=1)
    assert (result.total, result.more, len(result.items)) == (3, False, 1)


def test_a_text_search_counts_to_a_smaller_cap(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``q`` the total stops at SEARCH_COUNT_CAP (every row counted is matched, not only
    found in an index); without, at COUNT_CAP."""
    import incidents.queue.query as queue

    for _ in range(3):
        report(db_session, clock, interieur, title="Rançongiciel sur le portail")
    monkeypatch.setattr(queue, "SEARCH_COUNT_CAP", 2)
    actor = actor_of(analyst)
    searched = queue_page(db_session, actor, QueueFilter(q="rançongiciel"), clock=clock, limit=1)
    assert (searched.total, searched.more, len(searched.items)) == (2, True, 1)
    listed = queue_page(db_session, actor, QueueFilter(), clock=clock, limit=1)
    assert (listed.total, listed.more) == (3, False)
    monkeypatch.setattr(queue, "SEARCH_COUNT_CAP", 3)  # exactly the cap: not "more than"
    searched = queue_page(db_session, actor, QueueFilter(q="rançongiciel"), clock=clock, limit=1)
    assert (searched.total, searched.more) == (3, False)


def test_a_page_costs_a_constant_number_of_queries(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    me = actor_of(analyst)

    def statements(limit: int) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            if str(args[2]).lstrip().upper().startswith("SELECT"):  # not PostgreSQL's SET LOCAL
                seen.append(str(args[2]))

        event.listen(Connection, "before_cursor_execute", count)
        try:
            items = queue_page(db_session, me, QueueFilter(), clock=clock, limit=limit).items
            for incident in items:  # what the page shows: no lazy load
                _ = (incident.organisation.name, incident.assignee, len(incident.observables))
        finally:
            event.remove(Connection, "before_cursor_execute", count)
        return len(seen)

    for _ in range(6):
        report(db_session, clock, interieur)
    db_session.expire_all()
    # count, ids in order, their rows, observables, shares (the API answer's, the access rule's)
    assert statements(2) == statements(6) <= 5


def test_export_rows_follow_the_queue_order(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    made = [report(db_session, clock, interieur).reference for _ in range(5)]
    import incidents.queue.query as queue

    old, queue.EXPORT_BATCH = queue.EXPORT_BATCH, 2
    try:
        rows = [
            i.reference
            for i in queue_rows(db_session, actor_of(analyst), QueueFilter(), clock=clock)
        ]
    finally:
        queue.EXPORT_BATCH = old
    assert rows == made[::-1]


# ---------------------------------------------------------------- who sees what
def test_red_incidents_only_for_named_analysts_and_reporters_are_refused(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
) -> None:
    red = report(db_session, clock, interieur, tlp="TLP:RED")
    amber = report(db_session, clock, interieur).reference
    lead = Actor.for_user(make_user(db_session, clock, role=Role.LEAD))
    assert page(db_session, analyst, clock) == [amber]
    assert queue_page(db_session, actor_of(analyst), QueueFilter(), clock=clock).total == 1
    assert page(db_session, lead, clock) == [amber, red.reference]
    red.assignee_id = analyst.id
    db_session.flush()
    assert page(db_session, analyst, clock) == [amber, red.reference]
    reporter = Actor.for_user(make_user(db_session, clock, org=interieur))
    with pytest.raises(PermissionDenied):
        queue_page(db_session, reporter, QueueFilter(), clock=clock)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"status": "ouvert"}, "status"),
        ({"priority": "P9"}, "priority"),
        ({"category": "nope"}, "category"),
        ({"tlp": "purple"}, "tlp"),
        ({"organisation": "Bad Slug!"}, "organisation"),
        ({"assignee": "someone"}, "assignee"),
        ({"sla": "late"}, "sla"),
        ({"received_from": "01/02/2026"}, "received_from"),
        ({"received_from": "2026-02-02", "received_to": "2026-02-01"}, "received_to"),
        ({"sort": "title"}, "sort"),
        ({"after": "not a cursor!"}, "after"),
        ({"q": "x" * 201}, "q"),
        ({"has_match": "maybe"}, "has_match"),
        ({"due_within": "0"}, "due_within"),
    ],
)
def test_bad_values_name_the_field(args: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        QueueFilter.from_args(args)
    assert set(caught.value.fields) == {field}


def test_a_cursor_of_another_sort_is_refused(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    for _ in range(2):
        report(db_session, clock, interieur)
    first = queue_page(db_session, actor_of(analyst), QueueFilter(), clock=clock, limit=1)
    assert first.next is not None
    f = QueueFilter.from_args({"sort": "priority", "after": first.next})
    with pytest.raises(ValidationFailed) as caught:
        queue_page(db_session, actor_of(analyst), f, clock=clock)
    assert set(caught.value.fields) == {"after"}


def test_args_round_trip() -> None:
    args = {
        "q": "phishing 185.220.101.4",
        "status": ["open", "resolved"],
        "priority": ["P1"],
        "tlp": ["TLP:RED"],
        "assignee": ["me"],
        "sla": ["breached"],
        "received_from": ["2026-01-01"],
        "sort": ["-sla"],
    }
    f = QueueFilter.from_args(args)
    assert f.to_args() == {**args, "q": ["phishing 185.220.101.4"]}
    assert QueueFilter.from_args(f.to_args()) == f
    assert QueueFilter().to_args() == {}
