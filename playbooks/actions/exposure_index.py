"""What of an organisation's registered assets the indicator index holds (Flask-free read side
of the ``exposure-check`` action).

* a **domain** hits when it is indicated (the index's exact look-up,
  :func:`feeds.index.lookup.match_observables`) or one of its subdomains is — the reverse of
  the parent-domain keys an observable expands to (:mod:`feeds.rules.keys`): the index holds
  ``mail.example.ma``, whose parents include the registered ``example.ma``. Subdomains are read
  with one suffix comparison over the index's domain values for all of the organisation's
  domains (the index has no reversed-name key: this reads the ``domain`` part of
  ``ix_indicator_values_kind_value``);
* an **IP range** hits when an indicated address or network falls in it: the range is split
  into the dotted (IPv4) or hextet (IPv6) prefixes every address and network in it is spelt
  with, read as prefix ranges of ``ix_indicator_values_kind_value``, then each value found is
  checked to lie in the range exactly.

Only live indicators count (not revoked, detecting, not expired: :func:`feeds.index.lookup.live`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from core.db import is_postgres
from core.identity.models import AssetKind, Organisation, OrganisationAsset
from feeds.index.lookup import live, match_observables
from feeds.models import Indicator, IndicatorValue
from feeds.rules.keys import Why

MAX_PREFIXES = 256  # prefix ranges read for one IP range (a /16 split into /24s at most)


@dataclass(frozen=True, order=True)
class Hit:
    kind: str  # the indicated value's kind: domain, ipv4, ipv6
    value: str  # as the index stores it
    indicator_id: int
    asset: str  # the registered domain or range it met


def exposure_hits(session: Session, organisation: Organisation, *, now: dt.datetime) -> list[Hit]:
    """Every indicated value meeting one of the organisation's assets, once per value."""
    assets = session.execute(
        select(OrganisationAsset.kind, OrganisationAsset.value)
        .where(OrganisationAsset.organisation_id == organisation.id)
        .order_by(OrganisationAsset.id)
    )
    domains: list[str] = []
    ranges: list[str] = []
    for kind, value in assets:
        (domains if kind == AssetKind.DOMAIN else ranges).append(value)
    found: dict[tuple[str, str], Hit] = {}
    for hit in [*_domain_hits(session, domains, now), *_range_hits(session, ranges, now)]:
        found.setdefault((hit.kind, hit.value), hit)
    return sorted(found.values())


def _domain_hits(session: Session, domains: list[str], now: dt.datetime) -> list[Hit]:
    if not domains:
        return []
    hits: list[Hit] = []
    exact = match_observables(session, [("domain", d) for d in domains], now=now)
    for domain, matches in zip(domains, exact, strict=True):
        hits += [
            Hit("domain", m.matched, m.indicator.id, domain) for m in matches if m.why == Why.EXACT
        ]
    suffixes = [f"%.{_escape(d)}" for d in domains]
    rows = session.execute(
        select(IndicatorValue.value, IndicatorValue.indicator_id)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .where(
            IndicatorValue.kind == "domain",
            or_(*(IndicatorValue.value.like(s, escape="\\") for s in suffixes)),
            *live(now),
        )
        .order_by(IndicatorValue.value, IndicatorValue.indicator_id)
    )
    for value, indicator_id in rows:
        asset = next((d for d in domains if value.endswith(f".{d}")), None)
        if asset is not None:  # LIKE is case-insensitive in SQLite; values are lower-case
            hits.append(Hit("domain", value, indicator_id, asset))
    return hits


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _range_hits(session: Session, ranges: list[str], now: dt.datetime) -> list[Hit]:
    hits: list[Hit] = []
    for raw in ranges:
        try:
            network = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            continue  # registered before validation existed: nothing can fall in it
        kind = "ipv4" if network.version == 4 else "ipv6"
        prefixes = spelt_prefixes(network)
        if not prefixes:
            continue
        rows = session.execute(
            select(IndicatorValue.value, IndicatorValue.indicator_id)
            .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
            .where(
                IndicatorValue.kind == kind,
                or_(*(_starts(session, p) for p in prefixes)),
                *live(now),
            )
            .order_by(IndicatorValue.value, IndicatorValue.indicator_id)
        )
        for value, indicator_id in rows:
            if falls_in(value, network):
                hits.append(Hit(kind, value, indicator_id, str(network)))
    return hits


def _starts(session: Session, prefix: str) -> ColumnElement[bool]:
    # prefixes are digits, '.', ':' and lower-case hex: no wildcard to escape. SQLite reads a
    # GLOB prefix from the index (its LIKE is case-insensitive and would not); PostgreSQL a
    # LIKE prefix (under the C collation)
    if is_postgres(session):
        return IndicatorValue.value.like(f"{prefix}%")
    return IndicatorValue.value.op("GLOB")(f"{prefix}*")


def falls_in(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Whether an indexed address or network lies within ``network``."""
    try:
        inner = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return inner.version == network.version and inner.subnet_of(network)  # type: ignore[arg-type]


def spelt_prefixes(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """Text prefixes every address and network inside ``network`` starts with, in the index's
    canonical spelling (a superset: :func:`falls_in` decides). Empty when the range is too
    broad to read this way (shorter than /8, or an IPv6 range without a leading non-zero
    hextet)."""
    if network.version == 4:
        if network.prefixlen < 8:
            return []
        octets = (network.prefixlen // 8) if network.prefixlen % 8 == 0 else None
        if octets is not None:
            return [_dotted(network, min(octets, 3))]
        wider = min((network.prefixlen // 8 + 1) * 8, 24)
        subnets = list(network.subnets(new_prefix=wider)) if wider > network.prefixlen else []
        if not subnets or len(subnets) > MAX_PREFIXES:
            return [_dotted(network, min(network.prefixlen // 8, 3))]
        return [_dotted(s, wider // 8) for s in subnets]
    hextets = network.exploded.split(":")[: network.prefixlen // 16]
    leading: list[str] = []
    for hextet in hextets:
        if int(hextet, 16) == 0:
            break
        leading.append(format(int(hextet, 16), "x"))
    return [":".join(leading) + ":"] if leading else []


def _dotted(network: ipaddress.IPv4Network, octets: int) -> str:
    return ".".join(str(network.network_address).split(".")[:octets]) + "."
