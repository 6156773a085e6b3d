"""``cert restore`` reads its archive as hostile input: a member that would write outside the
upload directory, a link, an altered or truncated archive, an archive of a newer Vigie — each is
refused with a plain message, no traceback, and nothing written. And ``cert backup`` itself: no
secret in the archive, readable by its owner only, never overwriting by surprise."""

from __future__ import annotations

import gzip
import json
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cert.backup import dump
from core.clock import SystemClock
from core.db import make_engine
from tests.dbs import TestDatabase, create_database
from tests.kit.backups import SECRET_KEY, Vigie, count, files, holds_rows, rewrite
from tests.kit.factories import make_org

Members = list[tuple[tarfile.TarInfo, bytes]]
FILE = b"%PDF-1.4 a stored attachment\n"


@pytest.fixture
def small(fresh_database: TestDatabase, tmp_path: Path) -> Path:
    """The archive of a small Vigie: two organisations and a stored file."""
    vigie = Vigie(fresh_database, tmp_path / "source")
    for slug in ("interieur", "sante"):
        assert vigie.cert("orgs", "create", "--slug", slug, "--name", slug).exit_code == 0
    stored = vigie.upload_dir / "ab" / ("ab" + "0" * 62)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(FILE)
    archive = tmp_path / "small.tar.gz"
    result = vigie.cert("backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    return archive


@pytest.fixture
def target(fresh_database: TestDatabase, tmp_path: Path) -> Iterator[Vigie]:
    db = create_database(fresh_database.backend, tmp_path)
    yield Vigie(db, tmp_path / "target" / "instance")
    db.drop()


def _member(
    name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, data


def _adding(*extra: tuple[tarfile.TarInfo, bytes]) -> Callable[[Members], Members]:
    """Extra members, also named in the manifest with their true checksums (so that only the
    name or type can be what is refused)."""
    import hashlib

    def change(members: Members) -> Members:
        out = []
        for info, data in members:
            if info.name == "manifest.json":
                manifest = json.loads(data)
                for new, content in extra:
                    manifest["members"][new.name] = {
                        "sha256": hashlib.sha256(content).hexdigest(),
                        "size": len(content),
                    }
                data = json.dumps(manifest).encode()  # noqa: PLW2901 - the member's new content
            out.append((info, data))
        return [*extra, *out]

    return change


def _altering(prefix: str, word: bytes) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        out = [
            (i, d.replace(word, word.upper()) if i.name.startswith(prefix) else d)
            for i, d in members
        ]
        assert out != members  # the archive really was altered
        return out

    return change


def _dropping(prefix: str) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        return [(i, d) for i, d in members if not i.name.startswith(prefix)]

    return change


def _newer(members: Members) -> Members:
    out = []
    for info, data in members:
        if info.name == "manifest.json":
            manifest = json.loads(data)
            manifest["alembic_revision"] = "9999"
            data = json.dumps(manifest).encode()  # noqa: PLW2901 - the member's new content
        out.append((info, data))
    return out


HOSTILE: dict[str, tuple[Callable[[Members], Members], str]] = {
    "traversal": (_adding(_member("../escaped")), "'..'"),
    "traversal inside uploads": (_adding(_member("uploads/../../escaped")), "'..'"),
    "absolute path": (_adding(_member("/tmp/vigie-backup-test-escaped")), "absolute"),  # noqa: S108 - where an absolute member would land
    "symlink": (
        _adding(_member("uploads/cd/link", b"", tarfile.SYMTYPE, "/etc/passwd")),
        "not a regular file",
    ),
    "hard link": (
        _adding(_member("uploads/cd/hard", b"", tarfile.LNKTYPE, "manifest.json")),
        "not a regular file",
    ),
    "device": (_adding(_member("uploads/cd/dev", b"", tarfile.CHRTYPE)), "not a regular file"),
    "member not in the manifest": (
        lambda m: [*m, _member("uploads/ef/extra")],
        "not in the manifest",
    ),
    "altered file": (_altering("uploads/", b"attachment"), "checksum mismatch"),
    "altered rows": (_altering("database/", b"sante"), "checksum mismatch"),
    "missing member": (_dropping("database/"), "missing member"),
    "no manifest": (_dropping("manifest.json"), "not a Vigie backup"),
    "newer revision": (_newer, "newer version"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_archive_is_refused_and_nothing_is_written(
    case: str, small: Path, target: Vigie, tmp_path: Path
) -> None:
    change, message = HOSTILE[case]
    hostile = rewrite(small, tmp_path / "hostile.tar.gz", change)

    result = target.cert("restore", str(hostile))

    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert holds_rows(target.db.engine) == []
    assert files(target.home) == {}
    assert not (tmp_path / "target" / "escaped").exists()
    assert not (tmp_path / "escaped").exists()
    assert not Path("/tmp/vigie-backup-test-escaped").exists()  # noqa: S108 - where an absolute member would land


@pytest.mark.parametrize(
    "damage",
    ["truncated gzip", "not gzip", "gzip of something else", "empty file", "no such file"],
)
def test_a_damaged_archive_is_refused_in_plain_words(
    damage: str, small: Path, target: Vigie, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.tar.gz"
    data = small.read_bytes()
    contents = {
        "truncated gzip": data[: len(data) // 2],
        "not gzip": b"PK\x03\x04 this is a zip, not a Vigie backup" * 10,
        "gzip of something else": gzip.compress(b"just text, not a tar archive\n" * 40),
        "empty file": b"",
    }
    if damage in contents:
        bad.write_bytes(contents[damage])

    result = target.cert("restore", str(bad))

    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: "), result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert holds_rows(target.db.engine) == []
    assert files(target.home) == {}


def test_a_failure_while_writing_rows_leaves_nothing(
    small: Path, target: Vigie, tmp_path: Path
) -> None:
    """Rows that break a constraint (two organisations of one slug, the checksums made to
    match): the load's one transaction is rolled back and the staged files removed."""
    import hashlib

    def clash(members: Members) -> Members:
        out, sums = [], {}
        for info, data in members:
            if info.name.endswith("-organisations.jsonl"):
                lines = data.splitlines()
                row = json.loads(lines[1])
                row[0] = 999  # another id, the same slug
                data = data + json.dumps(row).encode() + b"\n"  # noqa: PLW2901 - the member's new content
                sums[info.name] = data
            out.append((info, data))
        fixed = []
        for info, data in out:
            if info.name == "manifest.json":
                manifest = json.loads(data)
                for name, content in sums.items():
                    digest = hashlib.sha256(content).hexdigest()
                    manifest["members"][name] = {"sha256": digest, "size": len(content)}
                for table in manifest["tables"]:
                    if table["name"] == "organisations":
                        table["rows"] += 1
                data = json.dumps(manifest).encode()  # noqa: PLW2901 - the member's new content
            fixed.append((info, data))
        return fixed

    result = target.cert("restore", str(rewrite(small, tmp_path / "clash.tar.gz", clash)))

    assert result.exit_code == 1, result.output
    assert "nothing was restored" in result.output
    assert "Traceback" not in result.output
    assert holds_rows(target.db.engine) == []
    assert count(target.db.engine, "centres") == 1  # the migrations' own row is still there
    assert files(target.home) == {}


def test_the_archive_holds_no_secret_and_is_for_its_owner_only(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    vigie = Vigie(fresh_database, tmp_path / "source")
    assert vigie.cert("orgs", "create", "--slug", "interieur", "--name", "Intérieur").exit_code == 0
    kept = "an-instance-secret-key-file-" + "q" * 20  # instance/secret_key, next to the uploads
    vigie.home.mkdir(parents=True, exist_ok=True)
    (vigie.home / "secret_key").write_text(kept)
    archive = tmp_path / "out.tar.gz"

    result = vigie.cert("backup", "--output", str(archive))

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    raw = gzip.decompress(archive.read_bytes())
    assert SECRET_KEY.encode() not in raw
    assert kept.encode() not in raw
    with tarfile.open(archive, "r:gz") as tar:
        assert not [n for n in tar.getnames() if "secret" in n]
    assert "not in the archive: the secret key" in result.output
    # never overwritten by surprise, and no temporary file left behind
    before = archive.read_bytes()
    again = vigie.cert("backup", "--output", str(archive))
    assert again.exit_code == 1 and "--force" in again.output
    assert archive.read_bytes() == before
    assert vigie.cert("backup", "--output", str(archive), "--force").exit_code == 0
    assert [p.name for p in tmp_path.iterdir() if "backup" in p.name or p.suffix == ".part"] == []


def test_a_backup_is_one_snapshot_while_others_write(
    fresh_database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows committed by another connection while the backup reads its tables (after the first
    one) are not in it: every table is read from one snapshot (PostgreSQL REPEATABLE READ,
    SQLite's WAL read transaction)."""
    vigie = Vigie(fresh_database, tmp_path / "source")
    assert vigie.cert("orgs", "create", "--slug", "avant", "--name", "Avant").exit_code == 0
    real = dump._table
    written: list[str] = []

    def and_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = real(*args, **kwargs)
        if not written:
            other = make_engine(fresh_database.url)
            with Session(other) as session:
                make_org(session, SystemClock(), slug="pendant")
                session.commit()
            other.dispose()
            written.append("pendant")
        return rows

    monkeypatch.setattr(dump, "_table", and_meanwhile)
    archive = tmp_path / "out.tar.gz"
    result = vigie.cert("backup", "--output", str(archive))

    assert result.exit_code == 0, result.output
    assert written and count(fresh_database.engine, "organisations") == 2
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["row_counts"]["organisations"] == 1
