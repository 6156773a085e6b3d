"""Test helpers for digests: committed lists and published bulletins on a database of the
test's own (the job opens its own sessions), the job's mailing, and reading received digests."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select

from bulletins.digests.services import Mailing, send_due_digests
from bulletins.models import DigestFrequency, ListKind
from bulletins.settings import BulletinSettings
from core.clock import FrozenClock
from core.db import SessionFactory
from core.identity.models import User
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import published
from tests.kit.outbox import DOMAIN, SECRET_KEY
from tests.kit.world import PEOPLE, World

# Wednesday 2 December 2026, 10:00 in Casablanca (UTC+1)
WEDNESDAY = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
# Monday 7 December 2026, 08:00 in Casablanca: the weekly digest of the week of 30 November
MONDAY_8AM = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)
SETTINGS = BulletinSettings(base_url="https://vigie.cert.ma")
A_SOC, B_SOC, A_EXTRA = "soc@interieur.gov.ma", "ssi@sante.gov.ma", "veille@interieur.gov.ma"


@dataclass
class Scene:
    weekly_all: int  # every administration, weekly
    weekly_a: int  # the ministry A's own list (its contact and an extra address), weekly
    daily_all: int  # every administration, daily
    amber_a: str  # reference of a TLP:AMBER bulletin about A
    clear: str  # reference of a TLP:CLEAR bulletin


def build(factory: SessionFactory, clock: FrozenClock) -> Scene:
    """On Wednesday: the lists, then a CLEAR and an AMBER-about-A bulletin published."""
    with factory() as session:
        world = World(session, clock)
        a, b = world.interieur, world.sante
        a.contact_emails, b.contact_emails = [A_SOC], [B_SOC]
        weekly_all = make_list(session, clock, "tous", ListKind.ALL, digest=DigestFrequency.WEEKLY)
        weekly_a = make_list(
            session, clock, "interieur", ListKind.ORGANISATION, organisation_id=a.id,
            digest=DigestFrequency.WEEKLY, members=[{"email": A_EXTRA, "language": "ar"}],
        )  # fmt: skip
        daily_all = make_list(session, clock, "quotidien", ListKind.ALL,
                              digest=DigestFrequency.DAILY)  # fmt: skip
        clock.advance(hours=1)
        clear, _ = published(session, clock, world)
        clock.advance(hours=1)
        amber, _ = published(
            session, clock, world, tlp="amber", risk="important", organisations=[a.slug],
            texts={"fr": {"title": "Campagne d'hameçonnage visant l'Intérieur"},
                   "ar": {"title": "حملة تصيد"}},
        )  # fmt: skip
        ids = (weekly_all.id, weekly_a.id, daily_all.id)
        refs = (amber.reference or "", clear.reference or "")
        session.commit()
    return Scene(*ids, *refs)


def publish_again(factory: SessionFactory, clock: FrozenClock, **changes: object) -> str:
    """One more bulletin published now by the cast :func:`build` created; its reference."""
    with factory() as session:
        world = World(session, clock)
        for key, email in (
            ("analyst", PEOPLE["analyst"]["email"]),
            ("lead", PEOPLE["lead"]["email"]),
            ("second_lead", "nadia@cert.gov.ma"),
        ):
            world.__dict__[key] = session.scalar(select(User).where(User.email == email))
        bulletin, _ = published(session, clock, world, **changes)
        session.commit()
        return bulletin.reference or ""


def mailing(clock: FrozenClock) -> Mailing:
    return Mailing(SETTINGS, clock, SECRET_KEY, DOMAIN)


def run(factory: SessionFactory, clock: FrozenClock, *only: int) -> dict[str, int]:
    return send_due_digests(factory, mailing(clock), only=only)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def unsubscribe_path(message: EmailMessage) -> str | None:
    found = re.search(r"https://vigie\.cert\.ma(/advisories/unsubscribe/\S+)", body(message))
    return found[1] if found else None
