"""A real TAXII 2.1 server for tests: OASIS ``medallion`` 3.0.0 on loopback, in a subprocess,
with its memory backend loaded from a data file generated here.

medallion's 3.0.0 gotchas (standards.md §5.2): the config path is positional, the backend needs
``module`` and ``module_class``, every object needs a manifest entry (dates with six-digit
microseconds), its memory backend is quadratic (keep a collection under 2,000 objects) and its
discovery document names the host and port it is served on.

:func:`taxii_server` yields a :class:`Taxii` whose collection holds ``count`` indicators
(``[ipv4-addr:value = '10.<i>…']``), one added per second from :data:`START`; ``add`` posts
more through the TAXII API itself (added "now" by the server).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.kit.smtp import free_port

MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "cert-reader", "medallion-secret"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MEDALLION = Path(sys.executable).with_name("medallion")


def stamp(moment: dt.datetime, digits: int = 6) -> str:
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: len(text) - (6 - digits)] + "Z"


def address(index: int) -> str:
    return f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"


def indicator(index: int, *, modified: dt.datetime | None = None) -> dict[str, Any]:
    created = START + dt.timedelta(seconds=index)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=index + 1)}",
        "created": stamp(created, 3),
        "modified": stamp(modified or created, 3),
        "name": f"C2 {address(index)}",
        "pattern": f"[ipv4-addr:value = '{address(index)}']",
        "pattern_type": "stix",
        "valid_from": stamp(created, 3),
        "indicator_types": ["malicious-activity"],
    }


def data_file(port: int, count: int) -> dict[str, Any]:
    objects = [indicator(i) for i in range(count)]
    manifest = [
        {
            "id": o["id"],
            "date_added": stamp(START + dt.timedelta(seconds=i, microseconds=1)),
            "version": o["modified"],
            "media_type": STIX_MEDIA,
        }
        for i, o in enumerate(objects)
    ]
    return {
        "/discovery": {
            "title": "Test TAXII server",
            "default": f"http://127.0.0.1:{port}/intel/",
            "api_roots": [f"http://127.0.0.1:{port}/intel/"],
        },
        "intel": {
            "information": {
                "title": "Intel",
                "versions": [MEDIA],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "Indicators",
                    "can_read": True,
                    "can_write": True,
                    "media_types": [STIX_MEDIA],
                    "objects": objects,
                    "manifest": manifest,
                },
                {
                    "id": "2c1bd1b0-2e1c-4bd6-8fd6-0b1d0b6c7a10",
                    "title": "Closed",
                    "can_read": False,
                    "can_write": False,
                    "media_types": [STIX_MEDIA],
                    "objects": [],
                    "manifest": [],
                },
            ],
        },
    }


@dataclass
class Taxii:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def discovery(self) -> str:
        return f"http://127.0.0.1:{self.port}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}/intel/"

    def add(self, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """POST ``objects`` to the collection (the server adds them now)."""
        answer = requests.post(
            f"{self.api_root}collections/{COLLECTION}/objects/",
            data=json.dumps({"objects": objects}),
            headers={"Accept": MEDIA, "Content-Type": MEDIA},
            auth=(USER, PASSWORD),
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        status: dict[str, Any] = answer.json()
        assert status["success_count"] == len(objects), status
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def taxii_server(tmp: Path, *, count: int = 120, page_size: int = 50) -> Iterator[Taxii]:
    """medallion serving ``count`` indicators, ``page_size`` per page, on a free port."""
    assert count < 2000, "medallion's memory backend is quadratic: keep it small"
    port = free_port()
    data = tmp / "taxii_data.json"
    data.write_text(json.dumps(data_file(port, count)), encoding="utf-8")
    config = tmp / "medallion.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                },
                "users": {USER: PASSWORD},
                "taxii": {"max_page_size": page_size},
            }
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(MEDALLION), "--host", "127.0.0.1", "--port", str(port), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    server = Taxii(port, process)
    try:
        _wait(server)
        yield server
    finally:
        server.stop()


def _wait(server: Taxii) -> None:
    for _ in range(200):
        if server.process.poll() is not None:
            raise RuntimeError("medallion exited at start-up")
        try:
            requests.get(server.discovery, auth=(USER, PASSWORD), timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("medallion did not answer")
