"""The incidents' threat-intelligence tables (typed ORM, Flask-free; migration 0021).

``incident_matches`` — a sighting: an incident's observable met an indicator of the index
(:mod:`feeds.index.lookup`), once per (observable, indicator), with why (exact, network, parent
domain, URL host), the stored value it met and how it was found (on arrival, when an observable
was added, by retro-hunt). The queue's ``has_match`` filter reads it by incident; the intel pages
by indicator.

``incident_observables.warning_lists`` (same migration) names the MISP warning lists a value is
on (known-benign: public resolvers, CDNs…): such a value never raises a match.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType
from feeds.models import Indicator
from incidents.models import Incident, IncidentObservable


class FoundBy(enum.StrEnum):
    ARRIVAL = "arrival"  # matched when the incident was created
    OBSERVABLE = "observable"  # matched when an observable was added
    RETROHUNT = "retrohunt"  # matched when new intelligence arrived


class IncidentMatch(Base):
    __tablename__ = "incident_matches"
    __table_args__ = (
        UniqueConstraint("observable_id", "indicator_id"),
        Index("ix_incident_matches_incident_id", "incident_id"),
        Index("ix_incident_matches_indicator_id", "indicator_id"),
        # the TAXII server's order of sightings (incidents.sharing.collections; migration 0027)
        Index("ix_incident_matches_matched_at_id", "matched_at", "id"),
        # the intel pages: an indicator's sightings, newest first, by keyset (migration 0026)
        Index("ix_incident_matches_indicator_id_id", "indicator_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    observable_id: Mapped[int] = mapped_column(
        ForeignKey("incident_observables.id", ondelete="CASCADE")
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    why: Mapped[str] = mapped_column(String(16))  # feeds.rules.keys.Why
    matched: Mapped[str] = mapped_column(String(2048))  # the stored value met
    found_by: Mapped[FoundBy] = mapped_column(StrEnumType(FoundBy, 16))
    matched_at: Mapped[dt.datetime]

    incident: Mapped[Incident] = relationship()
    observable: Mapped[IncidentObservable] = relationship()
    indicator: Mapped[Indicator] = relationship()
