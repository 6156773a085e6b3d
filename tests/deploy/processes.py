"""The containers' commands run as processes on loopback: through docker/entrypoint.sh, with a
``cert`` on PATH as in the image, their stderr collected line by line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.deploy import stack
from tests.kit.scheduler import wait_until


def cert_on_path(directory: Path) -> Path:
    """A ``cert`` executable in ``directory`` running this checkout's CLI (the image's is the
    console script of /opt/venv); ``exec``, so signals reach the CLI itself."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "cert"
    script.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from cert.cli import main; main()" "$@"\n'
    )
    script.chmod(0o755)
    return directory


def container_env(env: dict[str, str], bin_dir: Path, home: Path) -> dict[str, str]:
    """Only what a container would have: the service's settings, PATH, HOME, and where this
    checkout's packages are."""
    return {
        **env,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONPATH": str(stack.ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(
    command: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(stack.ENTRYPOINT), *command],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class Service:
    """One long-running container command (``cert web``, ``cert scheduler``)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command = command
        self.proc = subprocess.Popen(
            ["sh", str(stack.ENTRYPOINT), *command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def records(self) -> list[dict[str, Any]]:
        """Every stderr line as JSON (fails naming the first line that is not)."""
        records = []
        for line in self.lines():
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"{self.command}: not a JSON line: {line!r}") from None
            assert isinstance(record, dict), line
            records.append(record)
        return records

    def wait_for_message(self, text: str, timeout: float) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for line in self.lines():
                if text in line:
                    record = json.loads(line)
                    assert isinstance(record, dict)
                    if text in record.get("message", ""):
                        return record
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.command} exited {self.proc.returncode}: {self.text()}")
            return None

        try:
            return wait_until(found, timeout, repr(text))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {self.command} printed:\n{self.text()}") from None

    def text(self) -> str:
        return "\n".join(self.lines())

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (what `docker compose stop` sends), then the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return status

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
