"""Each bar, segment and table row of the dashboard links to the queue filtered on what it
counts: every link is parsed with the queue's own filter and counted by the queue's own query,
and must give the number the chart shows — for a lead and for an analyst (TLP:RED left out)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from incidents.queue.filter import QueueFilter
from incidents.queue.query import incident_page
from incidents.reporting.charts import Chart, dashboard_charts
from incidents.reporting.dashboard import Dashboard, Granularity, dashboard
from tests.incidents.reporting.scenario import NOW, PERIOD, ZONE, build

_LINK = re.compile(r'<a href="([^"]+)" aria-label="([^"]+)">')
COUNTED = ("over-time", "open", "by-org", "by-sector")  # charts whose bars are counts


def queue_count(session: Session, actor: Actor, href: str) -> int:
    url = urlsplit(href)
    assert url.path == "/queue"
    try:
        f = QueueFilter.from_args(MultiDict(parse_qsl(url.query)), strict=True)
    except ValidationFailed as exc:
        raise AssertionError(f"{href}: {exc.fields}") from None
    clock = FrozenClock()
    clock.set(NOW)
    return incident_page(session, actor, f, clock=clock, tz=ZoneInfo(ZONE)).total


def charts_of(board: Dashboard) -> list[Chart]:
    return dashboard_charts(
        board, locale="en", _=lambda s: s, rtl=False, staff=True,
        link=lambda args: "/queue?" + urlencode(args),
    )  # fmt: skip


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
@pytest.mark.parametrize("who", ["lead", "analyst"])
def test_every_link_counts_what_its_bar_shows(
    db_session: Session, clock: FrozenClock, who: str, granularity: Granularity
) -> None:
    scenario = build(db_session, clock)
    reader = Actor.for_user(getattr(scenario, who))
    board = dashboard(db_session, reader, PERIOD, now=NOW, granularity=granularity)
    charts = {chart.ident: chart for chart in charts_of(board)}
    checked = 0
    for ident in COUNTED:
        for href, label in _LINK.findall(str(charts[ident].svg)):
            shown = int(html.unescape(label).rsplit(": ", 1)[1])
            assert queue_count(db_session, reader, html.unescape(href)) == shown, (ident, label)
            checked += 1
    # the over-time table's rows: the bucket's total, every class
    with_total = [b for b in board.over_time if b.total]
    for bucket, href in zip(with_total, charts["over-time"].links, strict=True):
        assert href is not None and queue_count(db_session, reader, href) == bucket.total
        checked += 1
    # organisations and sectors: one row per group, linked unless it has no sector
    for ident, groups in (("by-org", board.by_organisation), ("by-sector", board.by_sector)):
        for group, href in zip(groups, charts[ident].links, strict=True):
            if group.key:
                assert href is not None
                assert queue_count(db_session, reader, href) == group.figures.count
                checked += 1
    # SLA and mean times, per priority: the incidents the ratio or mean is computed on
    for ident in ("sla-ack", "sla-resolve", "mtta", "mttr"):
        for group, href in zip(board.by_priority, charts[ident].links, strict=True):
            assert href is not None
            assert queue_count(db_session, reader, href) == group.figures.count
            checked += 1
    assert checked >= 20


def test_a_reporter_gets_no_link_to_the_queue(db_session: Session, clock: FrozenClock) -> None:
    scenario = build(db_session, clock)
    board = dashboard(db_session, Actor.for_user(scenario.reporter_sante), PERIOD, now=NOW)
    charts = dashboard_charts(board, locale="en", _=lambda s: s, rtl=False, staff=False)
    assert all(href is None for chart in charts for href in chart.links)
    assert not any("<a " in str(chart.svg) for chart in charts)
