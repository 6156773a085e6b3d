"""STIX objects other slices publish into Vigie's TAXII collections (typed ORM, Flask-free;
migration 0033). The incidents slice owns the tables and serves them
(:mod:`incidents.sharing.published`); a slice above it (bulletins) writes them through
:func:`incidents.sharing.publishing.sync`, so the incidents slice never imports its publishers.

* ``shared_stix_sources``: one per publisher's document (``key``, e.g.
  ``bulletin/MACERT-AVI-2026-0042``), with the level its objects leave at now;
* ``shared_stix_source_organisations``: who may read its ``TLP:AMBER`` / ``TLP:AMBER+STRICT``
  objects besides CERT staff (the accounts of these organisations);
* ``shared_stix_objects``: one row per object *version* (``stix_id``, ``version`` =
  its ``modified``) with the object as JSON, its level (its marking) and when the collection
  received it (``date_added``, the TAXII order); ``(level, date_added, id)`` is the keyset index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class SharedSource(Base):
    __tablename__ = "shared_stix_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    level: Mapped[str] = mapped_column(String(32))  # a TLP label, never RED
    updated_at: Mapped[dt.datetime]


class SharedAudience(Base):
    """An organisation whose accounts read the source's AMBER-level objects."""

    __tablename__ = "shared_stix_source_organisations"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("shared_stix_sources.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SharedObject(Base):
    __tablename__ = "shared_stix_objects"
    __table_args__ = (
        UniqueConstraint("stix_id", "version"),
        Index("ix_shared_stix_objects_level_added", "level", "date_added", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("shared_stix_sources.id", ondelete="CASCADE"), index=True
    )
    stix_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(64))
    version: Mapped[dt.datetime]  # the object's ``modified``, to the millisecond
    level: Mapped[str] = mapped_column(String(32))
    date_added: Mapped[dt.datetime]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
