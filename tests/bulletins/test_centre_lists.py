"""Distribution lists scoped to a vigilance centre's constituency, on both databases: the kernel
rule of what a centre answers for, a centre list's recipients (the registered contacts of exactly
those organisations, never the CERT's), the TLP limits unchanged (AMBER refuses the constituents
a bulletin is not about, RED every organisation's contact), the e-mails actually sent through the
outbox to a real SMTP server, and creating such a list through the services, the pages and
``cert lists create`` (an unknown or missing centre is a refusal naming the field ``centre``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bulletins.audience import resolve
from bulletins.distribution import services as svc
from bulletins.distribution.sending import publish_and_send
from bulletins.models import BulletinStatus, DistributionList, ListKind
from cert.cli import cli, load_commands
from core.audit import AuditEntry
from core.auth.centres import constituency_organisations
from core.clock import FrozenClock
from core.db import make_session_factory
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.identity.centres import national_centre
from core.uow import transaction
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import SETTINGS, people
from tests.bulletins.test_distribution_sending import approved, outbox_count, received
from tests.dbs import TestDatabase
from tests.kit.constituency import Constituents, constituents, make_centre
from tests.kit.smtp import SmtpServer
from tests.kit.web import csrf_token, text
from tests.kit.world import World

load_commands()


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> Constituents:
    return constituents(db_session, clock, world)


def test_a_centre_answers_for_its_organisations_sectors_and_regions_never_the_cert(
    db_session: Session, clock: FrozenClock, scene: Constituents
) -> None:
    health = constituency_organisations(db_session, scene.health)
    assert health == sorted([scene.sante.id, scene.chu.id, scene.cnss.id, scene.agadir.id])
    finance = constituency_organisations(db_session, scene.finance)
    assert finance == sorted([scene.finances.id, scene.douane.id])
    every = set(constituency_organisations(db_session, national_centre(db_session)))
    assert every >= {*health, *finance, scene.interieur.id} and scene.cert.id not in every
    classes_only = make_centre(db_session, clock, "rancon", categories=["malicious-code"])
    assert constituency_organisations(db_session, classes_only) == []


def test_a_centre_list_reaches_the_contacts_of_its_constituency_only(
    db_session: Session, clock: FrozenClock, scene: Constituents
) -> None:
    dlist = make_list(db_session, clock, "sante", ListKind.CENTRE, centre_id=scene.health.id)
    recipients = resolve(db_session, [dlist])
    wanted = [scene.sante, scene.chu, scene.cnss, scene.agadir]
    assert sorted(r.email for r in recipients) == sorted(scene.contact(o) for o in wanted)
    assert {r.organisation_id for r in recipients} == {o.id for o in wanted}
    assert all(r.security_contact and not r.named for r in recipients)
    national = make_list(db_session, clock, "tous", ListKind.CENTRE,
                         centre_id=national_centre(db_session).id)  # fmt: skip
    everyone = {r.email for r in resolve(db_session, [national])}
    assert scene.contact(scene.interieur) in everyone
    assert scene.contact(scene.cert) not in everyone


def test_amber_and_red_keep_their_limits_on_a_centre_list(
    db_session: Session, clock: FrozenClock, scene: Constituents, world: World
) -> None:
    _, lead, _ = people(world)
    make_list(db_session, clock, "sante", ListKind.CENTRE, centre_id=scene.health.id)
    amber = approved(db_session, clock, world, tlp="amber", lists=["sante"],
                     organisations=[scene.sante.slug])  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        publish_and_send(db_session, lead, amber, clock=clock, settings=SETTINGS)
    named = refused.value.fields["recipients"]
    for other in (scene.chu, scene.cnss, scene.agadir):
        assert scene.contact(other) in named
    assert scene.contact(scene.sante) not in named and "TLP:AMBER" in named
    red = approved(db_session, clock, world, tlp="red", lists=["sante"],
                   organisations=[scene.sante.slug])  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        publish_and_send(db_session, lead, red, clock=clock, settings=SETTINGS)
    assert scene.contact(scene.sante) in refused.value.fields["recipients"]
    assert "named individuals" in refused.value.fields["recipients"]
    assert outbox_count(db_session) == 0
    assert amber.status == red.status == BulletinStatus.APPROVED


def test_the_mails_of_a_centre_list_go_to_its_constituency_only(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    scene: Constituents,
    world: World,
    smtp: SmtpServer,
) -> None:
    _, lead, _ = people(world)
    make_list(db_session, clock, "finances", ListKind.CENTRE, centre_id=scene.finance.id)
    bulletin = approved(db_session, clock, world, tlp="green", lists=["finances"])
    sent = publish_and_send(db_session, lead, bulletin, clock=clock, settings=SETTINGS)
    assert sent.queued == 2
    mails = received(db_session, session_factory, smtp, clock)
    assert set(mails) == {scene.contact(scene.finances), scene.contact(scene.douane)}
    amber = approved(db_session, clock, world, tlp="amber", lists=["finances"],
                     organisations=[scene.finances.slug, scene.douane.slug])  # fmt: skip
    publish_and_send(db_session, lead, amber, clock=clock, settings=SETTINGS)
    received(db_session, session_factory, smtp, clock)
    everyone = {a for envelope in smtp.handler.received for a in envelope.rcpt_tos}
    assert everyone == {scene.contact(scene.finances), scene.contact(scene.douane)}


def test_creating_a_centre_list_needs_an_existing_centre(
    db_session: Session, clock: FrozenClock, scene: Constituents, world: World
) -> None:
    lead = Actor.for_user(world.lead)

    def create(slug: str, **fields: str | None) -> DistributionList:
        return svc.create_list(db_session, lead, slug=slug, name=slug, kind="centre",
                               clock=clock, **fields)  # type: ignore[arg-type]  # fmt: skip

    with pytest.raises(ValidationFailed) as missing:
        create("a")
    assert missing.value.fields == {"centre": svc.CENTRE_REQUIRED}
    with pytest.raises(ValidationFailed) as unknown:
        create("b", centre="mars")
    assert unknown.value.fields == {"centre": svc.NO_CENTRE}
    made = create("sante", centre=" SANTE ")
    assert made.centre_id == scene.health.id and made.kind == ListKind.CENTRE
    assert made.organisation_id is None and made.sector is None
    entry = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.after is not None and entry.after["centre"] == "sante"
    assert svc.centre_names(db_session, [made.centre_id], "fr") == {
        scene.health.id: "Centre de veille — Santé"}  # fmt: skip
    with pytest.raises(ValidationFailed) as bad_kind:
        svc.create_list(db_session, lead, slug="c", name="c", kind="planet", clock=clock)
    assert "centre" in str(bad_kind.value.fields["kind"])


def test_the_lists_page_creates_a_centre_list_and_names_a_wrong_centre(
    client: FlaskClient, db_session: Session, scene: Constituents, world: World
) -> None:
    world.sign_in(client, world.lead)
    page = client.get("/bulletins/lists")
    assert page.status_code == 200 and "Centre de veille — Santé" in text(page)
    form = {"csrf_token": csrf_token(text(page)), "slug": "sante", "name": "Santé",
            "kind": "centre", "digest": "none", "language": "fr"}  # fmt: skip
    wrong = client.post("/bulletins/lists", data=form | {"centre": "mars"})
    assert wrong.status_code == 422
    assert re.search(r'<select class="form-select is-invalid" id="centre"', text(wrong))
    assert not re.search(r'class="form-select is-invalid" id="(kind|sector)"', text(wrong))
    assert db_session.scalar(select(DistributionList)) is None
    made = client.post("/bulletins/lists", data=form | {"centre": "sante"})
    assert made.status_code == 302 and made.location.endswith("/bulletins/lists/sante")
    detail = text(client.get("/bulletins/lists/sante"))
    assert "Centre de veille — Santé" in detail and "4 adresses" in detail
    listing = text(client.get("/bulletins/lists"))
    assert "Centre de veille — Santé</td>" in listing
    arabic = text(client.get("/bulletins/lists?lang=ar"))
    assert 'dir="rtl"' in arabic and "مركز اليقظة — الصحة</td>" in arabic


def test_cert_lists_create_a_centre_list(fresh_database: TestDatabase, tmp_path: Path) -> None:
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock()
    with transaction(factory) as session:
        constituents(session, clock, World(session, clock))
    env = {"CERT_DATABASE_URL": fresh_database.url, "CERT_SECRET_KEY": "s" * 40,
           "CERT_INSTANCE_DIR": str(tmp_path / "instance")}  # fmt: skip
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["lists", *args], env=env)
        return result.exit_code, result.output

    code, out = run("create", "--slug", "x", "--name", "X", "--kind", "centre", "--centre", "mars")
    assert code == 1 and "centre" in out and "Traceback" not in out
    code, out = run("create", "--slug", "x", "--name", "X", "--kind", "centre")
    assert code == 1 and "centre" in out
    assert run("create", "--slug", "sante", "--name", "Santé", "--kind", "centre",
               "--centre", "sante") == (0, "created sante (centre)\n")  # fmt: skip
    code, out = run("list")
    assert code == 0, out
    assert "sante" in out.split("centre")[1]
    code, out = run("show", "sante")
    assert "recipients (4)" in out and "soc@cnss.ma" in out and "soc@douane.ma" not in out
