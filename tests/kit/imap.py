"""A real IMAP server for tests: pymap 0.36.7 (in-memory ``dict`` backend) on loopback, in a
subprocess, with helpers to deliver messages into it and look at its folders.

pymap's ``--cert``/``--key`` give **STARTTLS** on the same port (checked: the greeting offers
``STARTTLS``, an implicit-TLS handshake gets ``WRONG_VERSION_NUMBER``). ``imaps://`` is tested
through :class:`Relay`, a TCP relay in front of pymap that can also terminate TLS, and that a
test can :meth:`~Relay.cut` to break a client's connection for real (as a network failure or a
stopped server would) while pymap keeps its mailbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.imap import encode_folder
from tests.kit.smtp import free_port

PYMAP = Path(sys.executable).with_name("pymap")
USER, PASSWORD = "vigie", "imap-s3cret"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(directory: Path, name: str = "server") -> Certificate:
    """A self-signed certificate for 127.0.0.1 (its own CA: give ``cert`` as the CA file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Vigie test {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = Certificate(directory / f"{name}.pem", directory / f"{name}.key")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: frozenset[str]
    raw: bytes


@dataclass
class ImapServer:
    """A running pymap; ``certificate`` is set when it offers STARTTLS."""

    port: int
    certificate: Certificate | None
    process: subprocess.Popen[bytes]
    host: str = HOST

    def url(self, folder: str = "INBOX", *, scheme: str = "imap", port: int | None = None) -> str:
        return f"{scheme}://{USER}@{self.host}:{port or self.port}/{folder}"

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A test's own IMAP session (plain text: loopback), logged in."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(USER, PASSWORD)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def create(self, folder: str) -> None:
        with self.session() as imap:
            typ, data = imap.create(_quoted(folder))
            assert typ == "OK", data

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` into ``folder`` (as the MTA would), unread."""
        with self.session() as imap:
            typ, data = imap.append(_quoted(folder), "", None, raw)
            assert typ == "OK", data

    def messages(self, folder: str = "INBOX") -> list[StoredMessage]:
        """The messages of ``folder`` (oldest first) with their flags, read without marking
        them seen; empty when the folder does not exist."""
        with self.session() as imap:
            typ, _ = imap.select(_quoted(folder), readonly=True)
            if typ != "OK":
                return []
            _, found = imap.uid("SEARCH", "ALL")
            stored = []
            for uid in sorted(int(u) for u in found[0].split()):
                _, data = imap.uid("FETCH", str(uid), "(FLAGS BODY.PEEK[])")
                head, raw = data[0]
                flags = imaplib.ParseFlags(head)
                stored.append(StoredMessage(uid, frozenset(f.decode() for f in flags), bytes(raw)))
            return stored

    def folders(self) -> list[str]:
        """The folder names as the server lists them (modified UTF-7)."""
        with self.session() as imap:
            _, data = imap.list()
            return [line.rsplit(b' "/" ', 1)[-1].decode().strip('"') for line in data]


def _quoted(folder: str) -> str:
    return '"' + encode_folder(folder) + '"'


def _wait_until_up(server: ImapServer, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"pymap exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pymap did not answer on port {server.port}")


@contextmanager
def imap_server(directory: Path, *, tls: bool = False) -> Iterator[ImapServer]:
    """Run pymap for the ``with`` block (a TLS variant: STARTTLS with a fresh certificate)."""
    certificate = make_certificate(directory / "tls") if tls else None
    port = free_port()
    command = [str(PYMAP), "--host", HOST, "--port", str(port)]
    if certificate is not None:
        command += ["--cert", str(certificate.cert), "--key", str(certificate.key)]
    else:
        command.append("--no-tls")
    command += ["dict", "--demo-user", USER, "--demo-password", PASSWORD]
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"pymap-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    server = ImapServer(port, certificate, process)
    try:
        _wait_until_up(server, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Relay:
    """A TCP relay on a free loopback port to ``upstream`` (optionally terminating TLS with
    ``certificate``: an ``imaps://`` front for pymap). :meth:`cut` closes every connection and
    refuses new ones, as a network failure would."""

    upstream: tuple[str, int]
    certificate: Certificate | None = None
    port: int = 0
    _listener: socket.socket | None = None
    _open: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cut_off: bool = False
    bind: str = HOST

    def start(self) -> None:
        self._listener = socket.create_server((self.bind, 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.cut_off:
            client.close()
            return
        try:
            if self.certificate is not None:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(self.certificate.cert, self.certificate.key)
                client = context.wrap_socket(client, server_side=True)
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open += [client, server]
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()
        _pump(client, server)

    def cut(self) -> None:
        self.cut_off = True
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def restore(self) -> None:
        self.cut_off = False

    def stop(self) -> None:
        self.cut()
        if self._listener is not None:
            self._listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def outward_address() -> str | None:
    """This machine's address on its default route (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent by connect()
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


@contextmanager
def relay(
    upstream: ImapServer, certificate: Certificate | None = None, *, bind: str = HOST
) -> Iterator[Relay]:
    front = Relay((upstream.host, upstream.port), certificate, bind=bind)
    front.start()
    try:
        yield front
    finally:
        front.stop()
