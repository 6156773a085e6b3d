"""Full-text search over incidents: the SQL clause of the queue's ``q`` (Flask-free).

The indexes are built by migrations 0004 and 0043 and kept in sync by the database itself:

* SQLite: ``fts_incidents``, an FTS5 external-content table over ``incidents`` (reference, title,
  description; ``unicode61`` tokenizer, diacritics folded) and ``fts_incident_observables``, an
  FTS5 ``trigram`` table over ``incident_observables.value`` (substring search); triggers on both
  base tables keep them current.
* PostgreSQL: ``incidents.fts_document``, ``to_tsvector('simple', …)`` of the same three columns
  stored by the database (a generated column, migration 0043; ``simple``: no stemming, so French,
  Arabic and indicators are indexed as written) with its GIN index, and a ``pg_trgm`` GIN index
  on ``incident_observables.value`` for substring search.

A query is split into terms (at most :data:`MAX_TERMS`); an incident matches when **every** term
matches it somewhere: a word (or word prefix) of its reference, title or description, a
substring of one of its observables' values (terms of 3 characters or more), or the start of its
reference (``MACERT-2026-0004``). For a reporter (``reported_only``) an observable leads to the
incident whose report it came from (its origin, see :mod:`incidents.origins`), never to the
incident a merge moved it to: a reporter finds no incident through another organisation's
indicators. Terms are passed as bound parameters, quoted for each engine's
query syntax, so no user text ever becomes query syntax. Accents: SQLite folds them
(``securite`` finds ``sécurité``), PostgreSQL's ``simple`` configuration does not (no
``unaccent`` extension is assumed).

Every object the migration creates for search is named ``fts_…``: Alembic's comparison skips
them (``cert/migrations/env.py``), since the ORM cannot describe them.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)

from core.db import ids_first
from incidents.models import Incident, IncidentObservable

OBJECT_PREFIX = "fts_"
MAX_TERMS = 8
MAX_TERM = 100
TRIGRAM = 3
_REFERENCE = re.compile(r"^[A-Za-z]+-\d{4}(-\d{0,9})?$")

_fts_incidents = table("fts_incidents", column("rowid"))
_fts_observables = table("fts_incident_observables", column("rowid"))


def pg_document(table_name: str) -> str:
    """PostgreSQL: the stored, GIN-indexed search document of ``table_name``'s rows (migration
    0043: computed by the database from the reference, title and description)."""
    return f"{table_name}.fts_document"


def terms_of(q: str) -> list[str]:
    """The search terms of ``q`` (whitespace-separated, deduplicated, bounded)."""
    return list(dict.fromkeys(t[:MAX_TERM] for t in q.split()))[:MAX_TERMS]


def matches(q: str, dialect: str, *, reported_only: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Incident`: every term of ``q`` matches the incident.
    ``reported_only`` (reporters): observables count for the incident they were reported with."""
    terms = terms_of(q)
    if not terms:
        return false()
    return and_(*(_term(term, dialect, reported_only) for term in terms))


def _term(term: str, dialect: str, reported_only: bool) -> ColumnElement[bool]:
    """One term, as an ``OR`` of conditions each served by an index of ``incidents``: the
    engines combine them (SQLite "MULTI-INDEX OR", PostgreSQL ``BitmapOr``) and read only the
    matching rows."""
    options = [_document(term, dialect)]
    if len(term) >= TRIGRAM:
        options.append(_observables(term, dialect, reported_only))
    if _REFERENCE.match(term):
        start = term.upper()
        # a range on the unique index: LIKE 'X%' is not index-served on either engine here
        options.append(and_(Incident.reference >= start, Incident.reference < start + "\uffff"))
    return or_(*options)


def _document(term: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        # dialect-specific: the term as one quoted tsquery phrase, each of its words a prefix
        cleaned = " ".join(re.sub(r"['\\]", " ", term).split())
        if not cleaned:
            return false()
        query = func.to_tsquery(literal_column("'simple'::regconfig"), f"'{cleaned}':*")
        return literal_column(pg_document("incidents")).bool_op("@@")(query)
    # SQLite FTS5: the term as one phrase (quotes doubled), its last token a prefix
    phrase = '"' + term.replace('"', '""') + '"*'
    rowids = select(_fts_incidents.c.rowid).where(
        literal_column("fts_incidents").op("MATCH")(phrase)
    )
    return Incident.id.in_(rowids)


def _observables(term: str, dialect: str, reported_only: bool) -> ColumnElement[bool]:
    """Incidents with an observable whose value contains ``term`` (trigram-served); with
    ``reported_only``, the incidents those observables were reported with."""
    holder: ColumnElement[int] = IncidentObservable.incident_id.expression
    if reported_only:
        holder = func.coalesce(IncidentObservable.origin_incident_id, holder)
    if dialect == "postgresql":
        # ids_first: ``id = ANY(ARRAY(…))`` there, a primary-key index condition, so it joins
        # the tsvector condition in one BitmapOr (``id IN (…)`` would be a join instead)
        # the trigram index is on lower(value), not value: an index on the bare column would be
        # chosen for the intake's equality look-ups too, and is far slower than the b-tree there
        pattern = f"%{_like_escape(term.lower())}%"
        ids = select(holder).where(func.lower(IncidentObservable.value).like(pattern, escape="\\"))
        return ids_first(Incident.id, ids)
    phrase = '"' + term.replace('"', '""') + '"'
    rowids = select(_fts_observables.c.rowid).where(
        literal_column("fts_incident_observables").op("MATCH")(phrase)
    )
    ids = select(holder).where(IncidentObservable.id.in_(rowids))
    return Incident.id.in_(ids)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
