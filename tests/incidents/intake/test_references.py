"""References are sequential per year, gap-free and unique under concurrent submitters."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from incidents.intake.references import format_reference, looks_like_reference, next_reference
from incidents.models import ReferenceCounter
from tests.dbs import TestDatabase


def test_sequential_per_year(db_session: Session) -> None:
    refs = [next_reference(db_session, "MACERT", 2026) for _ in range(3)]
    assert refs == ["MACERT-2026-000001", "MACERT-2026-000002", "MACERT-2026-000003"]
    assert next_reference(db_session, "MACERT", 2027) == "MACERT-2027-000001"


def test_rolled_back_numbers_are_reused_so_there_are_no_gaps(fresh_database: TestDatabase) -> None:
    factory = sessionmaker(bind=fresh_database.engine)
    with factory() as session:
        assert next_reference(session, "MACERT", 2026).endswith("000001")
        session.commit()
    with factory() as session:
        assert next_reference(session, "MACERT", 2026).endswith("000002")
        session.rollback()
    with factory() as session:
        assert next_reference(session, "MACERT", 2026).endswith("000002")
        session.commit()


def test_concurrent_allocations_are_unique_and_gap_free(fresh_database: TestDatabase) -> None:
    factory = sessionmaker(bind=fresh_database.engine)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(10):
                with factory() as session:
                    ref = next_reference(session, "MACERT", 2026)
                    session.commit()
                with lock:
                    results.append(ref)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [format_reference("MACERT", 2026, n) for n in range(1, 81)]
    with factory() as session:
        assert session.scalars(select(ReferenceCounter.last)).one() == 80


def test_reference_shape() -> None:
    assert looks_like_reference("macert-2026-000042")
    assert not looks_like_reference("MACERT-26-42")
