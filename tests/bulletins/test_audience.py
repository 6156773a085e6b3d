"""Who a bulletin goes to and who reads it, on both databases: lists resolve to recipients with
their language and organisation, the TLP refuses recipients it does not allow (naming them), and
the read rule shows each account only what its TLP and organisation allow — a revision in
progress never shows before it is published."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins import access
from bulletins.audience import audience_of, gate, resolve
from bulletins.authoring import services as svc
from bulletins.models import Bulletin, BulletinDelivery, ListKind, ListUnsubscribe
from bulletins.outputs.view import current_view, published_view
from bulletins.rules.gating import Recipient, refusal
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.markings import Tlp
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.kit.world import World


def someone(**changes: object) -> Recipient:
    fields: dict[str, object] = {"email": "x@example.org", "name": "", "language": "fr",
                                 "organisation_id": None, "list_id": None, "named": False,
                                 "security_contact": False}  # fmt: skip
    fields.update(changes)
    return Recipient(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tlp", "recipient", "allowed"),
    [
        (Tlp.CLEAR, someone(), True),
        (Tlp.GREEN, someone(), False),
        (Tlp.GREEN, someone(organisation_id=7), True),
        (Tlp.AMBER, someone(organisation_id=7), True),
        (Tlp.AMBER, someone(organisation_id=8), False),
        (Tlp.AMBER_STRICT, someone(organisation_id=8, named=True), False),
        (Tlp.AMBER_STRICT, someone(organisation_id=7), True),
        (Tlp.AMBER, someone(cert_staff=True), True),
        (Tlp.RED, someone(organisation_id=7, security_contact=True), False),
        (Tlp.RED, someone(named=True), True),
    ],
)
def test_the_tlp_decides_who_may_receive_a_bulletin(
    tlp: Tlp, recipient: Recipient, allowed: bool
) -> None:
    assert (refusal(tlp, recipient, {7}) is None) is allowed
    assert refusal(Tlp.AMBER, someone(organisation_id=7), set()) is not None  # about nobody


def test_lists_resolve_to_recipients_with_language_and_organisation(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    interieur, sante = world.interieur, world.sante
    interieur.contact_emails = ["SOC@interieur.gov.ma"]
    sante.contact_emails = ["soc@sante.gov.ma"]
    world.reporter.locale = "ar"
    everyone = make_list(db_session, clock, "all", ListKind.ALL, language="en")
    named = make_list(db_session, clock, "vip", ListKind.NAMED, members=[
        {"email": "soc@interieur.gov.ma", "name": "SOC"},
        {"email": world.reporter.email, "name": "Leila"},
        {"email": "expert@example.org", "name": "Expert", "language": "en"}])  # fmt: skip
    own = make_list(db_session, clock, "interieur", ListKind.ORGANISATION,
                    organisation_id=interieur.id,
                    members=[{"email": "dsi@interieur.gov.ma"}])  # fmt: skip
    health = make_list(db_session, clock, "health", ListKind.SECTOR, sector="health")
    db_session.add(ListUnsubscribe(list_id=own.id, email="dsi@interieur.gov.ma",
                                   created_at=clock.now()))  # fmt: skip
    db_session.flush()
    found = {r.email: r for r in resolve(db_session, [everyone, named, own, health])}
    assert set(found) == {"soc@interieur.gov.ma", "soc@sante.gov.ma", world.reporter.email,
                          "expert@example.org", "dsi@interieur.gov.ma"}  # fmt: skip
    soc = found["soc@interieur.gov.ma"]
    assert soc.named and soc.security_contact and soc.organisation_id == interieur.id
    assert soc.language == "en"  # the first list's language: no account has this address
    leila = found[world.reporter.email]
    assert leila.language == "ar" and leila.organisation_id == interieur.id  # from her account
    assert found["expert@example.org"].organisation_id is None
    assert found["dsi@interieur.gov.ma"].organisation_id == interieur.id
    digest = {r.email for r in resolve(db_session, [own], for_digest=True)}
    assert digest == {"soc@interieur.gov.ma"}  # the extra address left; the contact never does
    audience = gate(Tlp.AMBER, found.values(), {interieur.id})
    assert {r.recipient.email for r in audience.refused} == {"soc@sante.gov.ma",
                                                             "expert@example.org"}  # fmt: skip


def test_a_bulletin_audience_comes_from_its_lists_and_organisations(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.interieur.contact_emails = ["soc@interieur.gov.ma"]
    world.sante.contact_emails = ["soc@sante.gov.ma"]
    make_list(db_session, clock, "all", ListKind.ALL)
    author = Actor.for_user(world.analyst)
    bulletin = svc.create_draft(db_session, author, draft(tlp="amber", lists=["all"],
                                organisations=[world.interieur.slug]), clock=clock)  # fmt: skip
    audience = audience_of(db_session, bulletin)
    assert [r.email for r in audience.recipients] == ["soc@interieur.gov.ma"]
    assert [r.recipient.email for r in audience.refused] == ["soc@sante.gov.ma"]
    assert not audience.allowed
    with pytest.raises(Exception) as caught:
        svc.update_draft(db_session, author, bulletin, draft(lists=["nope"]), clock=clock)
    assert "nope" in str(getattr(caught.value, "fields", {}))


def test_each_account_reads_what_its_tlp_and_organisation_allow(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    clear, _ = published(db_session, clock, world)
    amber, _ = published(db_session, clock, world, tlp="amber",
                         organisations=[world.interieur.slug])  # fmt: skip
    red, _ = published(db_session, clock, world, tlp="red")
    draft_only = svc.create_draft(db_session, Actor.for_user(world.analyst), draft(), clock=clock)
    db_session.add(BulletinDelivery(bulletin_id=red.id, revision=1, email=world.reporter.email,
                                    language="fr", created_at=clock.now()))  # fmt: skip
    db_session.flush()

    def readable(actor: Actor | None) -> set[int]:
        return set(db_session.scalars(select(Bulletin.id).where(access.readable(actor))))

    mine = {clear.id, amber.id, red.id, draft_only.id}
    assert readable(Actor.for_user(world.analyst)) >= mine
    assert readable(Actor.for_user(world.reporter)) & mine == {clear.id, amber.id, red.id}
    assert readable(Actor.for_user(world.other_reporter)) & mine == {clear.id}
    assert readable(None) & mine == {clear.id}
    assert access.can_read(db_session, Actor.for_user(world.reporter), red)
    assert not access.can_read(db_session, Actor.for_user(world.other_reporter), amber)


def test_a_revision_in_progress_never_shows_before_it_is_published(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world)
    svc.revise(db_session, Actor.for_user(world.analyst), bulletin, clock=clock)
    changed = draft(texts={"fr": {"title": "Titre corrigé (brouillon)"}})
    svc.update_draft(db_session, Actor.for_user(world.analyst), bulletin, changed, clock=clock)
    shown = published_view(db_session, bulletin)
    assert shown is not None and shown.text("fr").title == "Vulnérabilité dans FortiOS"
    assert shown.text("ar").title == "ثغرة في FortiOS" and shown.revision == 1
    assert [r.summary for r in shown.revisions] == ["Version initiale"]
    preview = current_view(db_session, bulletin)
    assert preview.draft and preview.text("fr").title == "Titre corrigé (brouillon)"
    assert preview.text("en").title == "Titre corrigé (brouillon)"  # French when absent
    assert published_view(db_session, svc.create_draft(
        db_session, Actor.for_user(world.analyst), draft(), clock=clock)) is None  # fmt: skip
    assert access.can_read(db_session, None, bulletin)  # still public: its last publication


def test_a_revision_changing_tlp_or_organisations_changes_no_reader_before_publication(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    """The attacker's path: reopen an AMBER bulletin about the Interior ministry, set it CLEAR
    (or about the Health ministry) — its published AMBER content must not reach anyone new
    until the revision is approved and published."""
    bulletin, _ = published(db_session, clock, world, tlp="amber",
                            organisations=[world.interieur.slug])  # fmt: skip
    author, lead, _ = people(world)
    svc.revise(db_session, author, bulletin, clock=clock)
    svc.update_draft(db_session, author, bulletin, draft(tlp="clear",
                     organisations=[world.sante.slug]), clock=clock)  # fmt: skip
    other = Actor.for_user(world.other_reporter)  # of the Health ministry
    assert not access.can_read(db_session, None, bulletin)
    assert not access.can_read(db_session, other, bulletin)
    assert access.can_read(db_session, Actor.for_user(world.reporter), bulletin)
    svc.submit(db_session, author, bulletin, clock=clock)
    svc.approve(db_session, lead, bulletin, clock=clock)
    svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS, change="TLP:CLEAR")
    assert access.can_read(db_session, None, bulletin)
    assert access.can_read(db_session, other, bulletin)
