"""Distribution lists on both databases: created and changed by leads only (audited), every
refusal naming its field, members validated and never doubled, an organisation managing the
extra addresses of its own list only; ``cert lists …`` and ``cert bulletins publish --dry-run``
through the real ``cert`` group."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.audience import bulletin_lists
from bulletins.distribution import services as svc
from bulletins.distribution.sending import publish_and_send
from bulletins.models import BulletinDelivery, DistributionList, ListKind, ListMember
from cert.cli import cli, load_commands
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.db import make_session_factory
from core.errors import PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import AssetKind, OrganisationAsset
from core.outbox import OutboxMessage
from core.uow import transaction
from tests.bulletins.test_authoring import SETTINGS, people
from tests.bulletins.test_distribution_sending import approved
from tests.dbs import TestDatabase
from tests.kit.factories import make_org
from tests.kit.world import World

load_commands()


def test_leads_create_lists_of_each_kind_and_refusals_name_the_field(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = Actor.for_user(world.lead)
    interieur, _ = world.interieur, world.sante
    own = svc.create_list(
        db_session,
        lead,
        slug="interieur",
        name="Intérieur",
        kind="organisation",
        organisation=interieur.slug,
        clock=clock,
    )
    assert own.organisation_id == interieur.id and own.digest == "none"
    health = svc.create_list(
        db_session,
        lead,
        slug="sante",
        name="Santé",
        kind="sector",
        sector="health",
        digest="weekly",
        language="ar",
        clock=clock,
    )
    assert health.sector == "health" and health.language == "ar"
    bad = [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "interieur"}, "slug"),
        ({"kind": "club"}, "kind"),
        ({"kind": "organisation"}, "organisation"),
        ({"kind": "organisation", "organisation": "nope"}, "organisation"),
        ({"kind": "sector", "sector": "space"}, "sector"),
        ({"kind": "sector"}, "sector"),
        ({"digest": "hourly"}, "digest"),
        ({"language": "de"}, "language"),
        ({"name": " "}, "name"),
    ]
    for changes, field in bad:
        fields = {"slug": "x", "name": "X", "kind": "all", **changes}
        with pytest.raises(ValidationFailed) as refused:
            svc.create_list(db_session, lead, clock=clock, **fields)  # type: ignore[arg-type]
        assert field in refused.value.fields, (changes, refused.value.fields)
    with pytest.raises(PermissionDenied):
        svc.create_list(db_session, Actor.for_user(world.analyst), slug="x", name="X",
                        kind="all", clock=clock)  # fmt: skip
    updated = svc.update_list(db_session, lead, health, name="Santé publique", digest="daily",
                              language="fr", clock=clock)  # fmt: skip
    assert updated.digest == "daily"
    svc.delete_list(db_session, lead, health, clock=clock)
    assert (
        db_session.scalar(select(DistributionList).where(DistributionList.slug == "sante")) is None
    )
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("list.%")).order_by(AuditEntry.id)
    )
    assert list(actions) == ["list.create", "list.create", "list.update", "list.delete"]


def test_members_are_validated_and_never_doubled(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = Actor.for_user(world.lead)
    named = svc.create_list(db_session, lead, slug="vip", name="VIP", kind="named", clock=clock)
    member = svc.add_member(db_session, lead, named, email=" Wali@Interieur.gov.ma ",
                            name="Wali", language="ar", organisation=world.interieur.slug,
                            clock=clock)  # fmt: skip
    assert member.email == "wali@interieur.gov.ma"
    assert member.organisation_id == world.interieur.id
    for fields, field in [
        ({"email": "WALI@interieur.gov.ma"}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b.ma", "language": "de"}, "language"),
        ({"email": "a@b.ma", "organisation": "nope"}, "organisation"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            svc.add_member(db_session, lead, named, clock=clock, **fields)  # type: ignore[arg-type]
        assert field in refused.value.fields
    everyone = svc.create_list(db_session, lead, slug="all", name="Tous", kind="all", clock=clock)
    with pytest.raises(ValidationFailed):
        svc.add_member(db_session, lead, everyone, email="x@y.ma", clock=clock)
    svc.remove_member(db_session, lead, named, "WALI@interieur.gov.ma", clock=clock)
    with pytest.raises(ValidationFailed) as missing:
        svc.remove_member(db_session, lead, named, "wali@interieur.gov.ma", clock=clock)
    assert "email" in missing.value.fields


def test_an_organisation_manages_only_its_own_extra_addresses(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = Actor.for_user(world.lead)
    mine = svc.create_list(
        db_session,
        lead,
        slug="interieur",
        name="Intérieur",
        kind="organisation",
        organisation=world.interieur.slug,
        clock=clock,
    )
    theirs = svc.create_list(db_session, lead, slug="sante", name="Santé", kind="organisation",
                             organisation=world.sante.slug, clock=clock)  # fmt: skip
    named = svc.create_list(db_session, lead, slug="vip", name="VIP", kind="named", clock=clock)
    reporter = Actor.for_user(world.reporter)
    added = svc.add_member(db_session, reporter, mine, email="dsi@interieur.gov.ma",
                           organisation=world.sante.slug, clock=clock)  # fmt: skip
    assert added.organisation_id is None  # an extra address is of the list's organisation
    for other in (theirs, named):
        with pytest.raises(PermissionDenied):
            svc.add_member(db_session, reporter, other, email="x@interieur.gov.ma", clock=clock)
    svc.add_member(db_session, lead, theirs, email="dsi@sante.gov.ma", clock=clock)
    with pytest.raises(PermissionDenied):
        svc.remove_member(db_session, reporter, theirs, "dsi@sante.gov.ma", clock=clock)
    with pytest.raises(PermissionDenied):
        svc.update_list(db_session, reporter, mine, name="X", digest="none", language="fr",
                        clock=clock)  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.delete_list(db_session, reporter, mine, clock=clock)
    db_session.add(OrganisationAsset(organisation_id=world.interieur.id, kind=AssetKind.DOMAIN,
                                     value="interieur.gov.ma", created_at=clock.now()))  # fmt: skip
    db_session.flush()
    with pytest.raises(ValidationFailed) as outside:
        svc.add_member(db_session, reporter, mine, email="moi@gmail.com", clock=clock)
    assert "email" in outside.value.fields
    svc.add_member(db_session, reporter, mine, email="soc@dgsn.interieur.gov.ma", clock=clock)
    svc.add_member(db_session, lead, mine, email="expert@example.org", clock=clock)  # leads may
    svc.remove_member(db_session, reporter, mine, "soc@dgsn.interieur.gov.ma", clock=clock)
    svc.remove_member(db_session, lead, mine, "expert@example.org", clock=clock)
    svc.remove_member(db_session, reporter, mine, "dsi@interieur.gov.ma", clock=clock)
    assert [m.email for m in db_session.scalars(select(ListMember))] == ["dsi@sante.gov.ma"]
    assert [d.slug for d in svc.own_lists(db_session, reporter)] == ["interieur"]


def _env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return {"CERT_DATABASE_URL": db.url, "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
            "CERT_SECRET_KEY": "s" * 40}  # fmt: skip


def test_cert_lists_commands(fresh_database: TestDatabase, tmp_path: Path) -> None:
    factory = make_session_factory(fresh_database.engine)
    with transaction(factory) as session:
        org = make_org(session, FrozenClock(), slug="min-sante", sector="health")
        org.contact_emails = ["soc@sante.gov.ma"]
    env, runner = _env(fresh_database, tmp_path), CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["lists", *args], env=env)
        return result.exit_code, result.output

    assert run("create", "--slug", "sante", "--name", "Santé", "--kind", "organisation",
               "--organisation", "min-sante", "--digest", "weekly") == (
        0, "created sante (organisation)\n")  # fmt: skip
    code, out = run("create", "--slug", "x", "--name", "X", "--kind", "sector", "--sector", "moon")
    assert code == 1 and "sector" in out and "Traceback" not in out
    assert run("add-member", "sante", "--email", "DSI@sante.gov.ma", "--language", "ar")[0] == 0
    code, out = run("add-member", "sante", "--email", "dsi@sante.gov.ma")
    assert code == 1 and "email" in out and "already" in out
    code, out = run("add-member", "nope", "--email", "a@b.ma")
    assert code == 1 and "nope" in out
    code, out = run("list", "--json")
    listed = json.loads(out)
    assert [(r["slug"], r["members"], r["digest"]) for r in listed] == [("sante", 1, "weekly")]
    code, out = run("show", "sante")
    assert "dsi@sante.gov.ma" in out and "soc@sante.gov.ma" in out and "recipients (2)" in out
    assert run("remove-member", "sante", "--email", "dsi@sante.gov.ma")[0] == 0
    assert run("delete", "sante") == (0, "deleted sante\n")
    with transaction(factory) as session:
        assert session.scalar(select(DistributionList)) is None


def test_cert_bulletins_publish_dry_run_names_the_refused(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock()
    with transaction(factory) as session:
        world = World(session, clock)
        world.interieur.contact_emails = ["soc@interieur.gov.ma"]
        world.sante.contact_emails = ["soc@sante.gov.ma"]
        session.add(DistributionList(slug="all", name="Tous", kind=ListKind.ALL, digest="none",
                                     language="fr", created_at=clock.now(),
                                     updated_at=clock.now()))  # fmt: skip
        session.flush()
        bulletin = approved(session, clock, world, tlp="amber", lists=["all"],
                            organisations=[world.interieur.slug])  # fmt: skip
        bulletin_id = bulletin.id
        session.add(DistributionList(slug="vip", name="VIP", kind=ListKind.NAMED, digest="none",
                                     language="fr", created_at=clock.now(),
                                     updated_at=clock.now(),
                                     members=[ListMember(email="expert@example.org",
                                                         created_at=clock.now())]))  # fmt: skip
        session.flush()
        red_id = approved(session, clock, world, tlp="red", lists=["vip"]).id
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    dry = runner.invoke(cli, ["bulletins", "publish", str(bulletin_id), "--dry-run"], env=env)
    assert dry.exit_code == 1
    assert "to soc@interieur.gov.ma" in dry.output
    assert "REFUSED soc@sante.gov.ma: TLP:AMBER goes to the organisations" in dry.output
    real = runner.invoke(cli, ["bulletins", "publish", str(bulletin_id)], env=env)
    assert real.exit_code == 1 and "soc@sante.gov.ma" in real.output
    assert "Traceback" not in real.output
    sent = runner.invoke(cli, ["bulletins", "publish", str(red_id)], env=env)
    assert sent.exit_code == 0, sent.output
    assert re.fullmatch(r"published MACERT-AVI-\d{4}-0001 \(revision 1\): 1 e-mail\(s\) queued\n",
                        sent.output)  # fmt: skip
    with transaction(factory) as session:
        assert session.scalar(select(OutboxMessage.to_addr)) == "expert@example.org"


def test_deleting_a_list_leaves_the_bulletins_and_their_deliveries(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    lead = Actor.for_user(world.lead)
    vip = svc.create_list(db_session, lead, slug="vip", name="VIP", kind="named", clock=clock)
    svc.add_member(db_session, lead, vip, email="expert@example.org", clock=clock)
    bulletin = approved(db_session, clock, world, tlp="red", lists=["vip"])
    publish_and_send(db_session, people(world)[1], bulletin, clock=clock, settings=SETTINGS)
    svc.delete_list(db_session, lead, vip, clock=clock)
    db_session.expire_all()
    assert bulletin_lists(db_session, bulletin.id) == []
    delivery = db_session.scalar(select(BulletinDelivery))
    assert delivery is not None and delivery.email == "expert@example.org"
    assert delivery.list_id is None
