"""Full-text search of the queue (``q``): FTS5 on SQLite, tsvector + pg_trgm on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from incidents.demo.synthetic import generate_incidents
from incidents.models import Incident, IncidentObservable
from incidents.queue.query import QueueFilter, queue_page
from tests.incidents.queue.helpers import page
from tests.kit.factories import SETTINGS, actor_of, make_user, report

Search = Callable[..., list[str]]


@pytest.fixture
def found(db_session: Session, clock: FrozenClock, analyst: User) -> Search:
    def search(q: str, who: User | Actor | None = None) -> list[str]:
        return page(db_session, who or analyst, clock, q=q)

    return search


@pytest.fixture
def ransomware(db_session: Session, clock: FrozenClock, interieur: Organisation) -> Incident:
    return report(
        db_session, clock, interieur,
        title="Rançongiciel sur le serveur de fichiers",
        description="Les fichiers sont chiffrés ; note de rançon signée LockBit. فيروس الفدية",
        category="malicious-code", type="infected-system", observables=[],
    )  # fmt: skip


@pytest.fixture
def phishing(db_session: Session, clock: FrozenClock, sante: Organisation) -> Incident:
    return report(db_session, clock, sante)  # PHISHING: 185.220.101[.]4, webmail-interieur[.]com…


def test_words_of_title_and_description_french_and_arabic(
    found: Search, ransomware: Incident, phishing: Incident
) -> None:
    search = found
    assert search("serveur") == [ransomware.reference]
    assert search("lockbit") == [ransomware.reference]
    assert search("fichiers chiffrés") == [ransomware.reference]
    assert search("الفدية") == [ransomware.reference]
    assert search("phish") == [phishing.reference]  # word prefix
    assert search("messagerie") == [phishing.reference]
    assert search("serveur messagerie") == []  # every term must match
    assert search("introuvable") == []


def test_a_hyphenated_word_is_found_by_its_start(
    found: Search, db_session: Session, clock: FrozenClock, interieur: Organisation
) -> None:
    """``e-serv`` finds ``e-services`` on both engines (PostgreSQL's parser emits the compound
    before its parts: its prefix must stay a prefix), and only words that start so."""
    defaced = report(
        db_session, clock, interieur, title="Défacement du portail e-services",
        description="La page d'accueil du portail a été remplacée.", observables=[],
        category="intrusions", type="application-compromise",
    )  # fmt: skip
    assert found("e-serv") == [defaced.reference]
    assert found("portail e-services") == [defaced.reference]
    assert found("e-servir") == []


def test_reference_and_observable_values(
    found: Search, ransomware: Incident, phishing: Incident
) -> None:
    search = found
    assert search(phishing.reference) == [phishing.reference]
    assert search(phishing.reference.lower()) == [phishing.reference]
    assert search(phishing.reference[:-1]) == sorted(
        [phishing.reference, ransomware.reference], reverse=True
    )
    assert search(phishing.reference[-6:]) == [phishing.reference]
    assert search("185.220.101.4") == [phishing.reference]  # IP
    assert search("webmail-interieur.com") == [phishing.reference]
    assert search("interieur.com") == [phishing.reference]  # substring
    assert search("185.220.101.44") == []
    values = {o.value for o in phishing.observables}
    assert "185.220.101.4" in values and "webmail-interieur.com" in values


def test_terms_mix_text_and_observables_and_syntax_is_inert(
    found: Search, phishing: Incident
) -> None:
    search = found
    assert search("phishing 185.220.101.4") == [phishing.reference]
    for hostile in ('"', "'", "a OR b", "NEAR(x y)", "*", "x:*", "\\", "%", "_", "-", "(!)"):
        assert search(hostile) == []  # no error, no match


def test_the_index_follows_changes(
    db_session: Session, found: Search, ransomware: Incident, phishing: Incident
) -> None:
    search = found
    ransomware.title = "Défiguration du portail"
    db_session.flush()
    assert search("défiguration") == [ransomware.reference]
    assert search("serveur") == []
    db_session.execute(
        update(IncidentObservable)
        .where(IncidentObservable.value == "185.220.101.4")
        .values(value="203.0.113.9")
    )
    assert search("203.0.113.9") == [phishing.reference]
    db_session.execute(delete(IncidentObservable).where(IncidentObservable.value == "203.0.113.9"))
    assert search("203.0.113.9") == []
    db_session.delete(ransomware)
    db_session.flush()
    assert search("défiguration") == []


def test_search_never_leaks_across_visibility(
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    analyst: User,
    found: Search,
) -> None:
    search = found
    red = report(
        db_session, clock, interieur, tlp="TLP:RED", title="Exfiltration confidentielle",
        observables=[{"type": "domain", "value": "secret-c2.example"}],
    )  # fmt: skip
    assert search("exfiltration") == []
    assert search("secret-c2.example") == []
    f = QueueFilter.from_args({"q": "exfiltration"})
    assert queue_page(db_session, actor_of(analyst), f, clock=clock).total == 0
    red.assignee_id = analyst.id
    db_session.flush()
    assert search("secret-c2") == [red.reference]
    lead = Actor.for_user(make_user(db_session, clock, role=Role.LEAD))
    assert search("exfiltration", lead) == [red.reference]


def test_count_matches_the_search(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    for n in range(4):
        report(db_session, clock, interieur, title=f"Hameçonnage numéro {n}")
    report(db_session, clock, interieur, title="Autre chose", description="Rien à voir ici.")
    result = queue_page(
        db_session,
        actor_of(analyst),
        QueueFilter.from_args({"q": "hameçonnage"}),
        clock=clock,
        limit=3,
    )
    assert result.total == 4 and len(result.items) == 3 and result.next is not None


def test_bulk_generated_incidents_are_searchable(
    db_session: Session, clock: FrozenClock, interieur: Organisation, analyst: User
) -> None:
    """``cert demo --incidents N`` inserts in bulk (executemany / COPY): the index follows."""
    generate_incidents(db_session, Actor.system("test"), 20, clock=clock, settings=SETTINGS)
    value, reference = db_session.execute(
        select(IncidentObservable.value, Incident.reference)
        .join(IncidentObservable.incident)
        .where(Incident.tlp != "TLP:RED")
        .order_by(IncidentObservable.id.desc())
        .limit(1)
    ).one()
    assert reference in page(db_session, analyst, clock, q=value)
    title = db_session.scalar(select(Incident.title).where(Incident.reference == reference))
    word = max(title.split(), key=len) if title else ""
    assert reference in page(db_session, analyst, clock, q=word)


def test_search_objects_exist_and_are_outside_the_orm(db_session: Session) -> None:
    inspector = inspect(db_session.connection())
    if db_session.get_bind().dialect.name == "postgresql":
        names = {i["name"] for i in inspector.get_indexes("incidents")}
        names |= {i["name"] for i in inspector.get_indexes("incident_observables")}
        assert {"fts_incidents_document", "fts_incident_observables_value"} <= names
        # the stored document (migration 0043): the database's column, not the ORM's
        assert "fts_document" in {c["name"] for c in inspector.get_columns("incidents")}
        assert "fts_document" not in Incident.__table__.c
    else:
        assert {"fts_incidents", "fts_incident_observables"} <= set(inspector.get_table_names())
