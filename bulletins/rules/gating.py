"""TLP gating of a bulletin's recipients (pure): who may receive a bulletin by e-mail.

* ``TLP:RED``: named individuals only (members of a *named* list);
* ``TLP:AMBER+STRICT``: members of the organisations the bulletin is about (and the CERT's own
  staff, its author);
* ``TLP:AMBER``: the organisations concerned (the same people: an AMBER bulletin is about them);
* ``TLP:GREEN``: the constituency — anyone with an organisation known to Vigie;
* ``TLP:CLEAR``: anyone.

A publication whose lists hold a recipient these rules refuse is refused as a whole, naming
each such recipient and why (:func:`refusal`); nothing is filtered silently.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from core.markings import Tlp


@dataclass(frozen=True)
class Recipient:
    """One address a bulletin would go to, with what the rules need to know about it."""

    email: str  # lower-case
    name: str
    language: str  # fr, en, ar
    organisation_id: int | None  # None: outside the constituency
    list_id: int | None  # the list that brought it (the first one)
    named: bool  # a member of a named list (an individual, chosen by name)
    security_contact: bool  # an organisation's registered contact (never unsubscribed)
    cert_staff: bool = False  # an account of the CERT's own organisation


def refusal(tlp: Tlp, recipient: Recipient, concerned: Collection[int]) -> str | None:
    """Why ``recipient`` may not receive a bulletin at ``tlp`` about the organisations
    ``concerned`` (ids), or None when it may."""
    if tlp == Tlp.CLEAR:
        return None
    if tlp == Tlp.RED:
        return None if recipient.named else "TLP:RED goes to named individuals only"
    if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT):
        if recipient.cert_staff or (
            recipient.organisation_id is not None and recipient.organisation_id in concerned
        ):
            return None
        if not concerned:
            return f"{tlp} needs the organisations it is about"
        return f"{tlp} goes to the organisations it is about only"
    # GREEN: the constituency
    if recipient.organisation_id is None and not recipient.cert_staff:
        return "TLP:GREEN stays within the constituency"
    return None
