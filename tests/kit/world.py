"""The world of a test: organisations and people with known names, e-mails and passwords, each
created through the real services the first time a test asks for them.

The cast (:data:`ORGANISATIONS`, :data:`PEOPLE`):

* ``interieur`` (min-interieur) and ``sante`` (min-sante): two ministries, with Arabic names;
  ``cert``: the CERT's own organisation, where the staff belong;
* ``reporter``: Leila Berrada, rssi@interieur.gov.ma, of the Interior ministry, writes French;
  ``other_reporter``: Karim, karim@sante.gov.ma, of the Health ministry;
* ``analyst`` (Amine Analyste), ``analyst2`` (Youssef Analyste), ``lead`` (Hicham Lead) and
  ``admin`` (Rachid Admin) of the CERT, with e-mails at cert.gov.ma.

Everyone signs in with :data:`tests.kit.factories.PASSWORD`. The ``world`` fixture (and the
``reporter``, ``analyst``, ``lead``… fixtures taken from it) is in ``tests/conftest.py``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind, Role, User
from tests.kit.api import bearer
from tests.kit.factories import actor_of, make_org, make_token, make_user
from tests.kit.web import sign_in

ORGANISATIONS: dict[str, dict[str, Any]] = {
    "interieur": {
        "slug": "min-interieur",
        "name": "Ministère de l'Intérieur",
        "name_ar": "وزارة الداخلية",
        "sector": "government",
    },
    "sante": {
        "slug": "min-sante",
        "name": "Ministère de la Santé",
        "name_ar": "وزارة الصحة",
        "sector": "health",
    },
    "cert": {"slug": "cert", "name": "CERT", "kind": OrganisationKind.CERT},
}
PEOPLE: dict[str, dict[str, Any]] = {
    "reporter": {"org": "interieur", "email": "rssi@interieur.gov.ma", "name": "Leila Berrada"},
    "other_reporter": {"org": "sante", "email": "karim@sante.gov.ma", "name": "Karim"},
    "analyst": {"role": Role.ANALYST, "email": "amine@cert.gov.ma", "name": "Amine Analyste"},
    "analyst2": {"role": Role.ANALYST, "email": "youssef@cert.gov.ma", "name": "Youssef Analyste"},
    "lead": {"role": Role.LEAD, "email": "hicham@cert.gov.ma", "name": "Hicham Lead"},
    "admin": {"role": Role.ADMIN, "email": "rachid@cert.gov.ma", "name": "Rachid Admin"},
}


class World:
    """Organisations and people of one test, on its session and clock (see the module)."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # ------------------------------------------------------------ organisations
    @cached_property
    def interieur(self) -> Organisation:
        return self.org(**ORGANISATIONS["interieur"])

    @cached_property
    def sante(self) -> Organisation:
        return self.org(**ORGANISATIONS["sante"])

    @cached_property
    def cert(self) -> Organisation:
        return self.org(**ORGANISATIONS["cert"])

    # ------------------------------------------------------------ people
    @cached_property
    def reporter(self) -> User:
        return self._person("reporter")

    @cached_property
    def other_reporter(self) -> User:
        return self._person("other_reporter")

    @cached_property
    def analyst(self) -> User:
        return self._person("analyst")

    @cached_property
    def analyst2(self) -> User:
        return self._person("analyst2")

    @cached_property
    def lead(self) -> User:
        return self._person("lead")

    @cached_property
    def admin(self) -> User:
        return self._person("admin")

    def person(self, role: str) -> User:
        """The cast's reporter, analyst, lead or admin: the person of ``role``."""
        return {
            Role.REPORTER: lambda: self.reporter,
            Role.ANALYST: lambda: self.analyst,
            Role.LEAD: lambda: self.lead,
            Role.ADMIN: lambda: self.admin,
        }[Role(role)]()

    def _person(self, key: str) -> User:
        fields = dict(PEOPLE[key])
        org = getattr(self, fields.pop("org", "cert"))
        return self.user(org=org, **fields)

    # ------------------------------------------------------------ more of them
    def org(self, **fields: Any) -> Organisation:
        """A new organisation (a ministry unless ``kind``): see :func:`make_org`."""
        return make_org(self.session, self.clock, **fields)

    def user(
        self, role: str = Role.REPORTER, *, org: Organisation | None = None, **fields: Any
    ) -> User:
        """A new person: staff belong to the CERT, reporters to a new ministry unless ``org``."""
        if org is None and role != Role.REPORTER:
            org = self.cert
        return make_user(self.session, self.clock, role=role, org=org, **fields)

    # ------------------------------------------------------------ acting as them
    @staticmethod
    def actor(user: User) -> Actor:
        return actor_of(user)

    def token(self, user: User) -> str:
        """The secret of a new API token of ``user``."""
        return make_token(self.session, self.clock, user)[1]

    def headers(self, user: User, **extra: str) -> dict[str, str]:
        """Bearer headers of a new API token of ``user``."""
        return bearer(self.token(user), **extra)

    @staticmethod
    def sign_in(client: FlaskClient, user: User) -> FlaskClient:
        """``client`` signed in as ``user`` on the pages."""
        return sign_in(client, user)
