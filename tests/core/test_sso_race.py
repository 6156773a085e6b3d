"""A person's first sign-ins through the provider racing (two tabs, a double click; committed
data, SQLite and PostgreSQL): one account, linked once; the others sign in to it or are asked to
try again — never a second account, never an error."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.auth.sso import SsoRefused, sign_in_with_claims
from core.auth.sso_config import SsoSettings, parse_role_map
from core.clock import FrozenClock
from core.identity.models import OrganisationKind, User
from core.uow import begin_write
from tests.kit.factories import make_org
from tests.kit.threads import in_parallel

THREADS = 6
SETTINGS = SsoSettings(
    "https://idp.example.ma",
    "vigie",
    "s",
    "roles",
    parse_role_map("soc=analyst@macert"),
    "ID Gouv",
    "openid",
    True,
)
CLAIMS = {"sub": "race-1", "email": "race@cert.gov.ma", "email_verified": True, "roles": ["soc"]}


def test_racing_first_sign_ins_make_one_account(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with factory() as session:
        make_org(session, clock, slug="macert", kind=OrganisationKind.CERT)
        session.commit()

    def sign_in(_: int) -> int | str:
        with factory() as session:
            begin_write(session)  # as the callback does
            try:
                user = sign_in_with_claims(session, CLAIMS, settings=SETTINGS, clock=clock, ip=None)
            except SsoRefused as exc:
                session.commit()
                return str(exc.reason)
            session.commit()
            return user.id

    results = in_parallel(THREADS, sign_in)
    ids = {result for result in results if isinstance(result, int)}
    others = [result for result in results if isinstance(result, str)]
    assert len(ids) == 1, results
    assert set(others) <= {"The sign-in could not be completed. Please try again."}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        links = select(func.count()).where(AuditEntry.action == "sso.link")
        assert session.scalar(links) == 1
        logins = select(func.count()).where(AuditEntry.action == "sso.login")
        assert session.scalar(logins) == THREADS - len(others)
