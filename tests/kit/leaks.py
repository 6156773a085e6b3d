"""Where a secret stands in clear in a database: every column of every table, read as text."""

from __future__ import annotations

import warnings

from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session


def places_holding(session: Session, *secrets: str) -> list[str]:
    """``table.column`` of every value (of any type, read as text) that contains one of
    ``secrets``, in every table of the database (reflected, so none is forgotten)."""
    assert all(secrets), "an empty secret is found everywhere"
    tables = MetaData()
    with warnings.catch_warnings():  # types SQLAlchemy does not know (e.g. tsvector) read as text
        warnings.simplefilter("ignore")
        tables.reflect(bind=session.connection())
    assert len(tables.sorted_tables) > 10, "no schema to search"
    found: list[str] = []
    for table in tables.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column, value in row.items():
                if value is not None and any(secret in str(value) for secret in secrets):
                    found.append(f"{table.name}.{column}")
    return found
