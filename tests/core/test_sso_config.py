"""Single sign-on settings: every CERT_OIDC_* variable checked at start-up, naming the variable;
the role map's grammar and precedence; the organisations it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.auth.sso_config import SsoSettings, check_organisations, from_config, parse_role_map
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from core.identity.models import OrganisationKind, Role
from tests.kit.config import env
from tests.kit.factories import make_org

MAP = "cert-analysts=analyst@macert,cert-leads=lead@macert,sante-soc=reporter@min-sante"


def _secret(tmp_path: Path, text: str = "s3cr3t-of-the-client\n") -> Path:
    path = tmp_path / "oidc-secret"
    path.write_text(text, encoding="utf-8")
    return path


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {
        "CERT_OIDC_ISSUER": "https://idp.example.ma/realms/gov",
        "CERT_OIDC_CLIENT_ID": "vigie",
        "CERT_OIDC_CLIENT_SECRET_FILE": str(_secret(tmp_path)),
        "CERT_OIDC_ROLE_MAP": MAP,
    }
    base.update(values)
    return env(tmp_path, **{key: value for key, value in base.items() if value != "<unset>"})


def _settings(tmp_path: Path, **values: str) -> SsoSettings | None:
    return from_config(load_config(environ=_env(tmp_path, **values)))


def test_off_without_an_issuer(tmp_path: Path) -> None:
    assert from_config(load_config(environ=env(tmp_path))) is None


def test_every_variable_read_from_the_environment(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        CERT_OIDC_ISSUER="https://idp.example.ma/realms/gov/",
        CERT_OIDC_ROLE_CLAIM="realm_access.roles",
        CERT_OIDC_PROVIDER_NAME="ID Gouv",
        CERT_OIDC_SCOPES="openid  email profile groups",
        CERT_OIDC_LOCAL_PASSWORDS="0",
    )
    assert settings is not None
    assert settings.issuer == "https://idp.example.ma/realms/gov"  # the trailing slash dropped
    assert settings.metadata_url == (
        "https://idp.example.ma/realms/gov/.well-known/openid-configuration"
    )
    assert (settings.client_id, settings.client_secret) == ("vigie", "s3cr3t-of-the-client")
    assert settings.role_claim == "realm_access.roles"
    assert settings.provider_name == "ID Gouv"
    assert settings.scopes == "openid email profile groups"
    assert settings.local_passwords is False
    assert set(settings.role_map) == {"cert-analysts", "cert-leads", "sante-soc"}


def test_the_provider_is_named_after_the_issuer_host_by_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings is not None and settings.provider_name == "idp.example.ma"
    assert settings.local_passwords is True and settings.role_claim == "roles"


@pytest.mark.parametrize(
    ("values", "variable", "words"),
    [
        ({"CERT_OIDC_ISSUER": "http://idp.example.ma"}, "CERT_OIDC_ISSUER", "https"),
        ({"CERT_OIDC_ISSUER": "http://10.0.0.5:8080"}, "CERT_OIDC_ISSUER", "loopback"),
        ({"CERT_OIDC_ISSUER": "idp.example.ma"}, "CERT_OIDC_ISSUER", "https"),
        ({"CERT_OIDC_ISSUER": "https://idp.example.ma/?x=1"}, "CERT_OIDC_ISSUER", "query"),
        ({"CERT_OIDC_ISSUER": "https://u:p@idp.example.ma"}, "CERT_OIDC_ISSUER", "credentials"),
        ({"CERT_OIDC_CLIENT_ID": "<unset>"}, "CERT_OIDC_CLIENT_ID", "required"),
        ({"CERT_OIDC_CLIENT_SECRET_FILE": "<unset>"}, "CERT_OIDC_CLIENT_SECRET_FILE", "required"),
        ({"CERT_OIDC_CLIENT_SECRET_FILE": "/no/x"}, "CERT_OIDC_CLIENT_SECRET_FILE", "read"),
        ({"CERT_OIDC_ROLE_MAP": "<unset>"}, "CERT_OIDC_ROLE_MAP", "required"),
        ({"CERT_OIDC_ROLE_MAP": "cert-analysts"}, "CERT_OIDC_ROLE_MAP", "role@organisation"),
        ({"CERT_OIDC_ROLE_MAP": "x=chief@macert"}, "CERT_OIDC_ROLE_MAP", "unknown role"),
        ({"CERT_OIDC_ROLE_MAP": "x=analyst"}, "CERT_OIDC_ROLE_MAP", "role@organisation"),
        ({"CERT_OIDC_ROLE_MAP": "x=analyst@Ma CERT"}, "CERT_OIDC_ROLE_MAP", "identifier"),
        ({"CERT_OIDC_ROLE_MAP": "=analyst@macert"}, "CERT_OIDC_ROLE_MAP", "role@organisation"),
        ({"CERT_OIDC_ROLE_MAP": " , ,"}, "CERT_OIDC_ROLE_MAP", "required"),
        ({"CERT_OIDC_SCOPES": "email profile"}, "CERT_OIDC_SCOPES", "openid"),
        ({"CERT_OIDC_ROLE_CLAIM": "realm access"}, "CERT_OIDC_ROLE_CLAIM", "claim"),
        ({"CERT_OIDC_ROLE_CLAIM": "realm_access..roles"}, "CERT_OIDC_ROLE_CLAIM", "claim"),
    ],
)
def test_a_bad_setting_names_its_variable(
    tmp_path: Path, values: dict[str, str], variable: str, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        _settings(tmp_path, **values)
    assert str(err.value).startswith(variable + ":"), err.value
    assert words in str(err.value)


def test_the_secret_file_must_hold_one_non_empty_secret(tmp_path: Path) -> None:
    path = tmp_path / "other-secret"
    variable = {"CERT_OIDC_CLIENT_SECRET_FILE": str(path)}
    for text, words in [(" \n", "empty"), ("one\ntwo\n", "more than one"), ("x" * 5000, "more")]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match="CERT_OIDC_CLIENT_SECRET_FILE: .*" + words):
            _settings(tmp_path, **variable)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not text"):
        _settings(tmp_path, **variable)
    path.write_text("  the-secret  \n", encoding="utf-8")
    settings = _settings(tmp_path, **variable)
    assert settings is not None and settings.client_secret == "the-secret"


def test_settings_without_an_issuer_are_a_mistake(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^CERT_OIDC_ISSUER: required when CERT_OIDC_CLIENT_ID"):
        _settings(tmp_path, CERT_OIDC_ISSUER="<unset>")


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:8080", "http://localhost:9000/realms/x", "http://[::1]:80"]
)
def test_http_only_on_a_loopback_host(tmp_path: Path, issuer: str) -> None:
    settings = _settings(tmp_path, CERT_OIDC_ISSUER=issuer)
    assert settings is not None and settings.issuer == issuer.rstrip("/")


def test_the_highest_role_wins_then_the_first_written() -> None:
    role_map = parse_role_map(
        "staff=reporter@min-sante, staff=lead@macert , soc=analyst@macert,"
        "soc=analyst@other-cert,chiefs=admin@macert,dup=reporter@a,dup=reporter@b"
    )

    settings = SsoSettings("https://i", "c", "s", "roles", role_map, "i", "openid", True)
    staff = settings.grant_for(["staff"])
    assert staff is not None and (staff.role, staff.organisation) == (Role.LEAD, "macert")
    soc = settings.grant_for(["soc"])
    assert soc is not None and soc.organisation == "macert"  # first of equal roles
    both = settings.grant_for(["soc", "chiefs", "unknown"])
    assert both is not None and both.role == Role.ADMIN
    dup = settings.grant_for(["dup"])
    assert dup is not None and dup.organisation == "a"
    assert settings.grant_for(["unknown"]) is None and settings.grant_for([]) is None


def test_claim_values_may_hold_an_equals_sign() -> None:
    role_map = parse_role_map("cn=soc,ou=groups=analyst@macert".replace(",", ";"))
    assert list(role_map) == ["cn=soc;ou=groups"]


def test_the_organisations_of_the_map_are_checked_against_the_database(
    tmp_path: Path, db_session: Session, clock: FrozenClock
) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError) as err:
        check_organisations(db_session, settings)
    assert str(err.value) == (
        "CERT_OIDC_ROLE_MAP: unknown organisation(s) macert, min-sante "
        "(create them, or fix the map)"
    )
    make_org(db_session, clock, slug="macert", kind=OrganisationKind.MINISTRY)
    make_org(db_session, clock, slug="min-sante")
    with pytest.raises(ConfigError, match="cert-analysts=analyst@macert: analysts, coordinators"):
        check_organisations(db_session, settings)
    check_organisations(db_session, _settings(tmp_path, CERT_OIDC_ROLE_MAP="a=reporter@macert"))
    check_organisations(db_session, None)  # single sign-on off: nothing to check
