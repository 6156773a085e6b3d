"""A small IMAP client for reading the CERT mailbox (kernel transport: no Flask, no incident rules).

Built on the standard library's :mod:`imaplib`. It does only what a mailbox reader needs, in
the order the reader needs it: connect over TLS (``imaps://`` implicit TLS; ``imap://`` upgraded
with STARTTLS, plain text only to a loopback host), log in, select the folder, list the UIDs
oldest first, fetch one message with ``BODY.PEEK[]`` (nothing is marked read by reading it) and
move it to the done folder once the caller has stored it. Every failure is one
:class:`ImapError` whose message says what went wrong and where, and never carries the password.

Folder names travel in IMAP's modified UTF-7 (RFC 3501 §5.1.3), so a done folder named
``Traités`` or ``معالجة`` works: :func:`encode_folder`.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.config_values import ImapSettings

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_UID = re.compile(rb"\bUID (\d+)\b")


class ImapError(Exception):
    """The mailbox could not be read or a message could not be moved (the message says why)."""


def encode_folder(name: str) -> str:
    """``name`` in IMAP's modified UTF-7: printable ASCII as is (``&`` as ``&-``), every other
    run of characters as UTF-16 in base64 with ``,`` for ``/``, between ``&`` and ``-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (imaplib sends arguments as they are)."""
    encoded = encode_folder(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's CAs (and ``ca_file``'s, when a private CA signs the server), host names
    checked, TLS 1.2 at least."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ImapError(f"CERT_IMAP_CA_FILE {ca_file}: cannot be read ({exc})") from None
    return context


def _text(data: object) -> str:
    """A server's answer (a list of bytes) as one line of text, kept short."""
    items = data if isinstance(data, list) else [data]
    parts = [i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items]
    return " ".join(p for p in parts if p)[:300]


def _said(exc: Exception) -> str:
    """What the server said, as imaplib reports it (often bytes)."""
    said = exc.args[0] if exc.args else ""
    return (said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said))[:300]


class Mailbox:
    """An open, logged-in IMAP session with one folder selected (see :func:`open_mailbox`)."""

    def __init__(self, imap: imaplib.IMAP4, settings: ImapSettings) -> None:
        self._imap = imap
        self._where = f"{settings.host}:{settings.port}"
        self.folder = settings.folder
        self.capabilities = self._capabilities()

    def _capabilities(self) -> frozenset[str]:
        # asked again after LOGIN: servers announce MOVE and UIDPLUS to logged-in clients only
        typ, data = self._call("CAPABILITY", self._imap.capability)
        words = b" ".join(d for d in data if isinstance(d, bytes)).upper().split()
        return frozenset(w.decode("ascii", "replace") for w in words)

    def _call(self, what: str, command: Callable[..., Any], *args: str) -> tuple[str, list[Any]]:
        """Run one imaplib command; connection and protocol errors become :class:`ImapError`."""
        try:
            typ, data = command(*args)
        except TimeoutError:
            raise ImapError(f"IMAP server {self._where}: no answer to {what} in time") from None
        except (imaplib.IMAP4.abort, OSError) as exc:
            raise ImapError(
                f"IMAP server {self._where}: connection lost during {what} ({exc})"
            ) from None
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"IMAP server {self._where}: {what} refused ({_said(exc)})") from None
        return str(typ), list(data)

    def _expect_ok(self, what: str, command: Callable[..., Any], *args: str) -> list[Any]:
        typ, data = self._call(what, command, *args)
        if typ != "OK":
            raise ImapError(f"IMAP server {self._where}: {what} refused ({_text(data)})")
        return data

    def select(self, folder: str) -> None:
        typ, data = self._call("SELECT", self._imap.select, _quoted(folder))
        if typ != "OK":
            raise ImapError(
                f"IMAP server {self._where}: folder {folder!r} cannot be opened ({_text(data)})"
            )
        self.folder = folder

    def uids(self, limit: int) -> list[int]:
        """The UIDs of the selected folder's messages, oldest first, at most ``limit``
        (messages already flagged ``\\Deleted`` are left out)."""
        data = self._expect_ok("UID SEARCH", self._imap.uid, "SEARCH", "UNDELETED")
        found = b" ".join(d for d in data if isinstance(d, bytes)).split()
        return sorted(int(uid) for uid in found)[:limit]

    def fetch(self, uid: int) -> bytes | None:
        """The raw bytes of message ``uid`` (``BODY.PEEK[]``: the ``\\Seen`` flag is left as it
        was); None when it is gone (moved or expunged by someone else)."""
        data = self._expect_ok("UID FETCH", self._imap.uid, "FETCH", str(uid), "(BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                match = _UID.search(item[0])
                if match is None or int(match.group(1)) == uid:
                    return item[1]
        return None

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` when the server has none of that name."""
        typ, _data = self._call("STATUS", self._imap.status, _quoted(folder), "(MESSAGES)")
        if typ == "OK":
            return
        typ, data = self._call("CREATE", self._imap.create, _quoted(folder))
        if typ != "OK":
            raise ImapError(
                f"IMAP server {self._where}: folder {folder!r} cannot be created ({_text(data)})"
            )

    def move(self, uid: int, folder: str) -> None:
        """Move message ``uid`` to ``folder``: ``UID MOVE`` (RFC 6851) when the server has it,
        else copy, flag ``\\Deleted`` and expunge (only that UID with UIDPLUS)."""
        target, number = _quoted(folder), str(uid)
        if "MOVE" in self.capabilities:
            self._expect_ok("UID MOVE", self._imap.uid, "MOVE", number, target)
            return
        self._expect_ok("UID COPY", self._imap.uid, "COPY", number, target)
        self._expect_ok(
            "UID STORE", self._imap.uid, "STORE", number, "+FLAGS.SILENT", r"(\Deleted)"
        )
        if "UIDPLUS" in self.capabilities:
            self._expect_ok("UID EXPUNGE", self._imap.uid, "EXPUNGE", number)
        else:  # removes every message flagged \Deleted in the folder, as any client would
            self._expect_ok("EXPUNGE", self._imap.expunge)


def _connect(settings: ImapSettings, ca_file: Path | None) -> imaplib.IMAP4:
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.ssl:
            return imaplib.IMAP4_SSL(
                settings.host,
                settings.port,
                ssl_context=tls_context(ca_file),
                timeout=settings.timeout,
            )
        imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        _upgrade(imap, settings, ca_file)
        return imap
    except ConnectionRefusedError:
        raise ImapError(f"IMAP server {where}: connection refused") from None
    except ssl.SSLCertVerificationError as exc:
        raise ImapError(
            f"IMAP server {where}: TLS certificate not trusted ({exc.verify_message}); "
            "set CERT_IMAP_CA_FILE to the CA that signed it"
        ) from None
    except ssl.SSLError as exc:
        raise ImapError(f"IMAP server {where}: TLS failure ({exc.reason or exc})") from None
    except TimeoutError:
        raise ImapError(f"IMAP server {where}: no answer within {settings.timeout:g} s") from None
    except socket.gaierror as exc:
        raise ImapError(f"IMAP server {where}: unknown host ({exc.strerror})") from None
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ImapError(f"IMAP server {where}: cannot connect ({exc})") from None


def _upgrade(imap: imaplib.IMAP4, settings: ImapSettings, ca_file: Path | None) -> None:
    """``imap://``: STARTTLS when the server offers it (required unless the host is loopback)."""
    if "STARTTLS" in imap.capabilities:
        try:
            imap.starttls(ssl_context=tls_context(ca_file))
        except BaseException:
            _close(imap)
            raise
        return
    if not is_loopback(settings.host):
        _close(imap)
        raise ImapError(
            f"IMAP server {settings.host}:{settings.port}: does not offer STARTTLS; "
            "use imaps:// (the password is never sent in plain text to a remote host)"
        )


def _login(imap: imaplib.IMAP4, settings: ImapSettings, password: str) -> None:
    account = f"{settings.username}@{settings.host}"
    try:
        imap.login(settings.username, password)
    except imaplib.IMAP4.error as exc:
        said = _said(exc).replace(password, "***") if password else _said(exc)
        raise ImapError(f"IMAP login refused for {account} ({said})") from None
    except (TimeoutError, OSError) as exc:
        raise ImapError(f"IMAP login for {account}: connection lost ({exc})") from None


@contextmanager
def open_mailbox(
    settings: ImapSettings, password: str, *, ca_file: Path | None = None
) -> Iterator[Mailbox]:
    """Connect, log in and select ``settings.folder``; log out when the block ends."""
    imap = _connect(settings, ca_file)
    try:
        _login(imap, settings, password)
        mailbox = Mailbox(imap, settings)
        mailbox.select(settings.folder)
        yield mailbox
    finally:
        _logout(imap)


def _logout(imap: imaplib.IMAP4) -> None:
    """Best effort: the server may be gone already (that is why we may be leaving)."""
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        _close(imap)


def _close(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        imap.shutdown()


def probe(settings: ImapSettings, *, ca_file: Path | None = None) -> None:
    """Connect (and upgrade to TLS as the mailbox job does), then hang up without logging in
    (``cert doctor``); :class:`ImapError` in plain words when that fails."""
    imap = _connect(settings, ca_file)
    _close(imap)
