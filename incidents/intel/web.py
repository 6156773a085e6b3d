"""The intel pages (adapters), CERT staff only — reporters get a 404, as for every CERT page:

* ``/intel/indicators?q=&type=&feed=&tlp=&live=`` — search the index by value (exact canonical
  value, then prefix) or list the newest indicators, filtered, by keyset (``after``);
* ``/intel/indicators/<id>`` — an indicator: its context, pattern, values, validity, feed, TLP,
  related objects (malware, intrusion sets, campaigns, ATT&CK techniques) and its sightings
  with the incidents they touch (only those the reader may see), by keyset (``before``);
* ``/intel/techniques/<T-id>`` — an ATT&CK technique: its attack-pattern object(s), the
  indicators related to it and the incidents matching them.

Read models in :mod:`incidents.intel.browse`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from core import inputs
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor
from core.markings import Tlp
from core.web import context, get_session, int_arg
from core.web.auth import current_actor, login_required
from incidents.intel import browse
from incidents.web import local_time, marking_class

bp = Blueprint("intel", __name__, template_folder="../templates")
TEMPLATES = "incidents/intel"


def _staff() -> Actor:
    actor = current_actor()
    if not actor.is_cert_staff:
        raise NotFound("no such page")
    return actor


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"local_time": local_time, "marking_class": marking_class}


def _search() -> browse.Search:
    args = request.args
    q = args.get("q", "")
    if len(q) > browse.MAX_Q:
        raise ValidationFailed("invalid q", fields={"q": f"at most {browse.MAX_Q} characters"})
    kind = args.get("type", "")
    if kind and kind not in browse.KINDS:
        raise ValidationFailed("invalid type", fields={"type": ", ".join(browse.KINDS)})
    tlp = args.get("tlp", "")
    if tlp and tlp not in {t.value for t in Tlp}:
        raise ValidationFailed("invalid tlp", fields={"tlp": ", ".join(t.value for t in Tlp)})
    live = args.get("live", "")
    if live not in {"", "0", "1"}:
        raise ValidationFailed("invalid live", fields={"live": "1 (live only) or 0"})
    feed_id = int_arg("feed", low=1, high=inputs.MAX_ID)
    return browse.Search(q=q, kind=kind, feed_id=feed_id, tlp=tlp, live_only=live == "1")


@bp.get("/intel/indicators")
@login_required
def indicators() -> ResponseReturnValue:
    _staff()
    search = _search()
    after = int_arg("after", low=1, high=inputs.MAX_ID)
    session = get_session()
    page = browse.search_indicators(session, search, now=context().clock.now(), after=after)
    return render_template(
        f"{TEMPLATES}/indicators.html",
        search=search,
        page=page,
        after=after,
        feeds=browse.feeds(session),
        kinds=browse.KINDS,
        tlps=browse.tlp_names(),
        now=context().clock.now(),
    )


@bp.get("/intel/indicators/<int:indicator_id>")
@login_required
def indicator(indicator_id: int) -> ResponseReturnValue:
    actor = _staff()
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    view = browse.indicator_view(get_session(), actor, indicator_id, before=before)
    return render_template(
        f"{TEMPLATES}/indicator.html", view=view, before=before, now=context().clock.now()
    )


@bp.get("/intel/techniques/<external_id>")
@login_required
def technique(external_id: str) -> ResponseReturnValue:
    actor = _staff()
    if len(external_id) > 32:
        raise NotFound("no such technique")
    before = int_arg("before", low=1, high=inputs.MAX_ID)
    view = browse.technique_view(get_session(), actor, external_id, before=before)
    return render_template(
        f"{TEMPLATES}/technique.html", view=view, before=before, now=context().clock.now()
    )
