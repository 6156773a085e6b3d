"""docker/compose.yaml, read with PyYAML: the services the issue names, wired as they must be,
and every setting they give a real Vigie setting (a typo fails here, not in production)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.config import ConfigError, load_config
from tests.deploy import stack

SERVICES = {"web", "scheduler", "postgres", "redis", "mail", "migrate"}


@pytest.fixture(scope="module")
def document() -> dict:
    return stack.compose()


def test_the_stack_names_its_services(document: dict) -> None:
    assert "version" not in document  # the Compose Specification has none
    assert set(document["services"]) == SERVICES
    assert document["services"]["scheduler"]["deploy"]["replicas"] == 2


def test_every_service_has_an_image_and_vigie_s_are_built_from_the_repository(
    document: dict,
) -> None:
    for name, service in document["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" or name in stack.VIGIE_SERVICES, name
    for name in stack.VIGIE_SERVICES:
        build = document["services"][name]["build"]
        context = (stack.DOCKER / build["context"]).resolve()
        assert context == stack.ROOT, name
        assert (context / build["dockerfile"]).resolve() == stack.DOCKERFILE
        assert document["services"][name]["image"] == "vigie:latest"


def test_migrations_run_once_before_web_and_scheduler(document: dict) -> None:
    services = document["services"]
    assert services["migrate"]["command"] == ["cert", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "scheduler"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert services[name]["restart"] == "unless-stopped"
    assert services["web"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["web"]["command"][:2] == ["cert", "web"]
    assert services["scheduler"]["command"] == ["cert", "scheduler"]


def test_health_checks(document: dict) -> None:
    services = document["services"]
    web = services["web"]
    bind = web["command"][web["command"].index("--bind") + 1]
    port = bind.rpartition(":")[2]
    check = " ".join(web["healthcheck"]["test"])
    assert web["healthcheck"]["test"][0] == "CMD"
    assert f"http://127.0.0.1:{port}/readyz" in check
    assert any(mapping.endswith(f":{port}") for mapping in web["ports"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["mail"]["healthcheck"]["test"]
    # no HTTP server: the image's /readyz check is switched off, not left failing
    assert services["scheduler"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_every_secret_is_declared_mounted_and_kept_out_of_git_and_the_image(
    document: dict,
) -> None:
    declared = document["secrets"]
    for name, service in document["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        env = service.get("environment") or {}
        for variable, secret in stack.secret_paths({k: str(v) for k, v in env.items()}).items():
            assert secret in mounted, f"{name}: {variable} names a secret it does not mount"
    patterns = stack.dockerignore_patterns()
    ignore = (stack.DOCKER / "secrets" / ".gitignore").read_text(encoding="utf-8").split()
    assert ignore == ["*", "!.gitignore"]
    for name, secret in declared.items():
        path = (stack.DOCKER / secret["file"]).resolve()
        assert path.parent == stack.DOCKER / "secrets", name
        assert stack.ignored(str(path.relative_to(stack.ROOT)), patterns), name
    assert set(declared) == {"secret_key", "postgres_password", "metrics_token"}


def test_the_database_password_is_one_secret_and_never_in_the_url(document: dict) -> None:
    postgres = document["services"]["postgres"]["environment"]
    for name in stack.VIGIE_SERVICES:
        env = stack.environment(name)
        url = make_url(env["CERT_DATABASE_URL"])
        assert url.password is None
        assert (url.username, url.database, url.host) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_DB"],
            "postgres",
        )
        assert env["CERT_DATABASE_PASSWORD_FILE"] == postgres["POSTGRES_PASSWORD_FILE"]


def test_web_and_scheduler_share_the_instance_and_upload_volumes(document: dict) -> None:
    volumes = set(document["volumes"])
    mounts = {}
    for name in ("web", "scheduler", "migrate"):
        env = stack.environment(name)
        mounted = dict(v.split(":", 1)[::-1] for v in document["services"][name]["volumes"])
        assert mounted[env["CERT_UPLOAD_DIR"]] == "uploads"
        assert mounted[env["CERT_INSTANCE_DIR"]] == "instance"
        mounts[name] = mounted
        assert set(mounted.values()) <= volumes
    assert mounts["web"] == mounts["scheduler"]
    assert "postgres:/var/lib/postgresql/data" in document["services"]["postgres"]["volumes"]


def test_every_variable_the_services_set_is_a_vigie_setting() -> None:
    for name in stack.VIGIE_SERVICES:
        env = stack.environment(name)
        assert stack.unknown_variables(list(env)) == [], name
    # what the check stands on: `cert web` reads the extra ones
    serve = (stack.ROOT / "cert" / "cli" / "serve.py").read_text(encoding="utf-8")
    assert all(f'"{v}"' in serve for v in stack.WEB_COMMAND_VARIABLES)


def test_a_misspelt_variable_is_caught() -> None:
    assert stack.unknown_variables(["CERT_SECRET_KEY_FILE", "CERT_SECRETKEY_FILE"]) == [
        "CERT_SECRETKEY_FILE"
    ]
    assert stack.unknown_variables(["CERT_RATELIMIT_STORAGE"]) == ["CERT_RATELIMIT_STORAGE"]


@pytest.mark.parametrize("service", stack.VIGIE_SERVICES)
@pytest.mark.parametrize("proxy_count", ["", "1"])
def test_the_settings_load(service: str, proxy_count: str, tmp_path: Path) -> None:
    """core.config accepts every value the service gives (its defaults and a proxy in front)."""
    for secret in ("secret_key", "postgres_password", "metrics_token"):
        (tmp_path / secret).write_text("x" * 48 + "\n")
    (tmp_path / "postgres_password").write_text("p@ss/w:rd%" + "\n")
    env = stack.environment(service, {"VIGIE_PROXY_COUNT": proxy_count})
    for name, secret in stack.secret_paths(env).items():
        env[name] = str(tmp_path / secret)
    env["CERT_INSTANCE_DIR"] = str(tmp_path / "instance")
    config = load_config(environ=env, create_secret=False)
    assert config.secret_key == "x" * 48
    assert config.metrics_token == "x" * 48
    url = make_url(config.database_url)  # the postgres service's password, escaped in the URL
    assert (url.password, url.username, url.host) == ("p@ss/w:rd%", "vigie", "postgres")
    assert config.log_format == "json"
    assert config.proxy_count == (1 if proxy_count else 0)
    assert config.smtp is not None and config.smtp.host == "mail"
    assert str(config.upload_dir) == "/var/lib/vigie/uploads"


def test_without_its_secret_file_the_configuration_is_refused(tmp_path: Path) -> None:
    env = stack.environment("web")
    env["CERT_INSTANCE_DIR"] = str(tmp_path)
    with pytest.raises(ConfigError, match="_FILE: cannot read '/run/secrets/"):
        load_config(environ=env, create_secret=False)


def test_only_web_and_the_mail_catcher_are_published_and_on_loopback(document: dict) -> None:
    """PostgreSQL and Redis (no password: the stack's network only) are never published; what
    is published listens on 127.0.0.1, behind the host's TLS proxy."""
    published = {name: s["ports"] for name, s in document["services"].items() if "ports" in s}
    assert set(published) == {"web", "mail"}
    for name, ports in published.items():
        for mapping in ports:
            assert stack.interpolate(mapping, {}).startswith("127.0.0.1:"), (name, mapping)
    assert stack.interpolate(published["web"][0], {"VIGIE_HTTP_PORT": "9000"}) == (
        "127.0.0.1:9000:8000"
    )


def test_no_secret_value_is_written_into_the_file(document: dict) -> None:
    """Secrets only as /run/secrets paths: `docker inspect` and the compose file show no value."""
    for name in stack.VIGIE_SERVICES:
        env = stack.environment(name)
        for variable in ("CERT_SECRET_KEY", "CERT_METRICS_TOKEN", "CERT_DATABASE_PASSWORD"):
            assert variable not in env, (name, variable)
            assert env[f"{variable}_FILE"].startswith("/run/secrets/"), (name, variable)
    postgres = document["services"]["postgres"]["environment"]
    assert "POSTGRES_PASSWORD" not in postgres
