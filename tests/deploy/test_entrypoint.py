"""docker/entrypoint.sh run by /bin/sh as the image runs it: it refuses to start (exit 78, the
variable and the file named) when a secret is missing, empty or ambiguous, and otherwise runs
the command in its place. Also docker/make-secrets.sh."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy import stack

EX_CONFIG = 78


def run(arguments: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The entrypoint with only ``env`` (and PATH), as in a container."""
    return subprocess.run(
        ["sh", str(stack.ENTRYPOINT), *arguments],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    subprocess.run(["sh", str(stack.MAKE_SECRETS), str(directory)], check=True, timeout=30)
    return directory


@pytest.fixture
def env(secrets: Path) -> dict[str, str]:
    """compose.yaml's web environment, secrets under ``secrets``."""
    values = stack.environment("web")
    for name, secret in stack.secret_paths(values).items():
        values[name] = str(secrets / secret)
    return values


def test_with_every_secret_the_command_runs(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["sh", "-c", 'echo "ran $0 $1"', "a b", "c"], env, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran a b c\n", "")


def test_the_command_replaces_the_entrypoint(env: dict[str, str], tmp_path: Path) -> None:
    """exec: the command is the process the container's signals reach, not a child of sh."""
    process = subprocess.Popen(
        ["sh", str(stack.ENTRYPOINT), "sh", "-c", "echo $$"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output == f"{process.pid}\n"


@pytest.mark.parametrize("variable", ["CERT_SECRET_KEY_FILE", "CERT_DATABASE_PASSWORD_FILE"])
def test_a_missing_secret_file_is_refused(
    variable: str, env: dict[str, str], secrets: Path, tmp_path: Path
) -> None:
    missing = Path(env[variable])
    missing.unlink()
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert result.stdout == ""
    assert result.stderr == f"vigie-entrypoint: {variable} names {missing}, which does not exist\n"
    for other in secrets.iterdir():  # the secrets that are there stay unprinted
        assert other.read_text().strip() not in result.stderr


@pytest.mark.parametrize("content", ["", "\n", "  \n\t\n"])
def test_an_empty_secret_file_is_refused(
    content: str, env: dict[str, str], secrets: Path, tmp_path: Path
) -> None:
    (secrets / "metrics_token").write_text(content)
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert "CERT_METRICS_TOKEN_FILE" in result.stderr
    assert str(secrets / "metrics_token") in result.stderr
    assert "empty" in result.stderr


def test_a_directory_is_no_secret(env: dict[str, str], secrets: Path, tmp_path: Path) -> None:
    env["CERT_SECRET_KEY_FILE"] = str(secrets)
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert "CERT_SECRET_KEY_FILE" in result.stderr and "not a regular file" in result.stderr


def test_every_file_variable_is_checked_not_only_the_known_ones(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["CERT_OIDC_CLIENT_SECRET_FILE"] = str(tmp_path / "nowhere")
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert "CERT_OIDC_CLIENT_SECRET_FILE" in result.stderr


def test_no_secret_key_at_all_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    del env["CERT_SECRET_KEY_FILE"]
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert result.stderr.startswith("vigie-entrypoint: CERT_SECRET_KEY is not set")
    assert "CERT_SECRET_KEY_FILE" in result.stderr


def test_a_secret_given_twice_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    env["CERT_SECRET_KEY"] = "k" * 40
    result = run(["true"], env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert "CERT_SECRET_KEY and CERT_SECRET_KEY_FILE are both set" in result.stderr
    assert "k" * 40 not in result.stderr  # the variable is named, its value never printed


@pytest.mark.parametrize(
    "command", [["cert", "web"], ["cert", "scheduler"], ["cert", "db", "upgrade"]]
)
def test_cert_commands_need_the_database_url(
    command: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    del env["CERT_DATABASE_URL"]
    result = run(command, env, tmp_path)
    assert result.returncode == EX_CONFIG
    assert result.stderr.startswith("vigie-entrypoint: CERT_DATABASE_URL is not set")
    # but not to print the help, nor for a shell opened to look around
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "cert").write_text('#!/bin/sh\necho "help: $*"\n')
    (shim / "cert").chmod(0o755)
    env["PATH"] = f"{shim}:/usr/bin:/bin"
    assert run(["cert", "--help"], env, tmp_path).stdout == "help: --help\n"
    assert run(["sh", "-c", "echo shell"], env, tmp_path).stdout == "shell\n"


def test_the_database_url_may_come_from_a_file(env: dict[str, str], tmp_path: Path) -> None:
    url_file = tmp_path / "database_url"
    url_file.write_text(env.pop("CERT_DATABASE_URL") + "\n")
    env["CERT_DATABASE_URL_FILE"] = str(url_file)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "cert").write_text('#!/bin/sh\necho "cert $*"\n')
    (shim / "cert").chmod(0o755)
    env["PATH"] = f"{shim}:/usr/bin:/bin"
    result = run(["cert", "web"], env, tmp_path)
    assert (result.returncode, result.stdout) == (0, "cert web\n"), result.stderr


def test_make_secrets_creates_private_files_and_keeps_existing_ones(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    first = subprocess.run(
        ["sh", str(stack.MAKE_SECRETS), str(directory)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    values = {path.name: path.read_text() for path in directory.iterdir()}
    assert set(values) == {"secret_key", "postgres_password", "metrics_token"}
    assert len(set(values.values())) == 3
    assert all(len(v) >= 32 and v.isalnum() for v in values.values())
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in directory.iterdir())
    again = subprocess.run(
        ["sh", str(stack.MAKE_SECRETS), str(directory)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert again.stdout.count(": kept") == 3
    assert {path.name: path.read_text() for path in directory.iterdir()} == values


def test_the_entrypoint_is_posix_sh() -> None:
    text = stack.ENTRYPOINT.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n") and "\nset -eu\n" in text
    assert os.access(stack.ENTRYPOINT, os.X_OK)
    checked = subprocess.run(
        ["sh", "-n", str(stack.ENTRYPOINT)], capture_output=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr
