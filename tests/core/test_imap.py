"""core.imap against a real IMAP server (pymap on loopback, tests/kit/imap.py): listing,
fetching without marking read, moving (MOVE and the COPY/EXPUNGE fallbacks), TLS verification
(STARTTLS and implicit TLS), and the errors an operator reads in a failed job run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.config_values import ImapSettings, parse_imap_url
from core.imap import ImapError, encode_folder, is_loopback, open_mailbox
from tests.kit.imap import PASSWORD, ImapServer, make_certificate, outward_address, relay
from tests.kit.smtp import free_port


def log_in(settings: ImapSettings, password: str, ca_file: Path | None = None) -> None:
    with open_mailbox(settings, password, ca_file=ca_file):
        pass


def message(n: int) -> bytes:
    return (
        f"From: a{n}@example.test\r\nTo: cert@example.test\r\nSubject: message {n}\r\n"
        f"Message-ID: <m{n}@example.test>\r\n\r\nBody {n}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("INBOX", "INBOX"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-"),  # RFC 3501 §5.1.3
        ("R&D", "R&-D"),
        ("Traités", "Trait&AOk-s"),
    ],
)
def test_folder_names_are_sent_in_modified_utf7(name: str, encoded: str) -> None:
    assert encode_folder(name) == encoded


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("imap.example.test")
    assert not is_loopback("192.0.2.1")


def test_lists_oldest_first_in_batches_and_fetches_without_marking_read(
    imap: ImapServer,
) -> None:
    for n in range(3):
        imap.append(message(n))
    settings = parse_imap_url("CERT_IMAP_URL", imap.url())
    with open_mailbox(settings, PASSWORD) as mailbox:
        uids = mailbox.uids(limit=2)
        assert len(uids) == 2
        assert uids == sorted(uids)
        assert mailbox.fetch(uids[0]) == message(0)
        assert mailbox.fetch(uids[1]) == message(1)
        assert mailbox.fetch(9999) is None
    stored = imap.messages()
    assert [m.raw for m in stored] == [message(0), message(1), message(2)]
    assert all("\\Seen" not in m.flags for m in stored)


def test_moves_with_move_and_creates_a_non_ascii_done_folder(imap: ImapServer) -> None:
    imap.append(message(1))
    imap.append(message(2))
    settings = parse_imap_url("CERT_IMAP_URL", imap.url())
    with open_mailbox(settings, PASSWORD) as mailbox:
        assert "MOVE" in mailbox.capabilities
        mailbox.ensure_folder("Vigie-traités")
        mailbox.ensure_folder("Vigie-traités")  # already there: nothing to do
        first = mailbox.uids(limit=10)[0]
        mailbox.move(first, "Vigie-traités")
        assert len(mailbox.uids(limit=10)) == 1
    assert "Vigie-trait&AOk-s" in imap.folders()
    assert [m.raw for m in imap.messages("Vigie-traités")] == [message(1)]
    assert [m.raw for m in imap.messages()] == [message(2)]


@pytest.mark.parametrize("extensions", [{"UIDPLUS"}, set()], ids=["uidplus", "plain"])
def test_moves_by_copy_and_expunge_without_move(imap: ImapServer, extensions: set[str]) -> None:
    imap.append(message(1))
    imap.append(message(2))
    settings = parse_imap_url("CERT_IMAP_URL", imap.url())
    with open_mailbox(settings, PASSWORD) as mailbox:
        # the server has MOVE; make the client take the paths of servers without it
        mailbox.capabilities = frozenset(extensions)
        mailbox.ensure_folder("Done")
        mailbox.move(mailbox.uids(limit=10)[0], "Done")
        assert len(mailbox.uids(limit=10)) == 1
    assert [m.raw for m in imap.messages("Done")] == [message(1)]
    assert [m.raw for m in imap.messages()] == [message(2)]


def test_starttls_verifies_the_server_with_the_ca_file(imap_tls: ImapServer) -> None:
    assert imap_tls.certificate is not None
    imap_tls.append(message(1))
    settings = parse_imap_url("CERT_IMAP_URL", imap_tls.url())
    with open_mailbox(settings, PASSWORD, ca_file=imap_tls.certificate.cert) as mailbox:
        assert len(mailbox.uids(limit=10)) == 1
    # without the CA (the system's only) the self-signed certificate is refused
    with pytest.raises(ImapError, match="TLS certificate not trusted") as refused:
        log_in(settings, PASSWORD)
    assert "CERT_IMAP_CA_FILE" in str(refused.value)


def test_starttls_refuses_a_certificate_from_another_ca(
    imap_tls: ImapServer, tmp_path: Path
) -> None:
    other = make_certificate(tmp_path / "other", "other")
    settings = parse_imap_url("CERT_IMAP_URL", imap_tls.url())
    with pytest.raises(ImapError, match="TLS certificate not trusted"):
        log_in(settings, PASSWORD, ca_file=other.cert)


def test_imaps_implicit_tls_verified_and_refused(imap: ImapServer, tmp_path: Path) -> None:
    imap.append(message(1))
    ours, other = make_certificate(tmp_path / "ours"), make_certificate(tmp_path / "x", "x")
    with relay(imap, ours) as front:
        settings = parse_imap_url("CERT_IMAP_URL", imap.url(scheme="imaps", port=front.port))
        assert settings.ssl
        with open_mailbox(settings, PASSWORD, ca_file=ours.cert) as mailbox:
            assert mailbox.fetch(mailbox.uids(limit=1)[0]) == message(1)
        with pytest.raises(ImapError, match="TLS certificate not trusted"):
            log_in(settings, PASSWORD, ca_file=other.cert)


def test_a_login_refused_names_the_account_never_the_password(imap: ImapServer) -> None:
    settings = parse_imap_url("CERT_IMAP_URL", imap.url())
    with pytest.raises(ImapError) as refused:
        log_in(settings, "wrong-Pa55word")
    text = str(refused.value)
    assert text.startswith("IMAP login refused for vigie@127.0.0.1 ([AUTHENTICATIONFAILED]")
    assert "wrong-Pa55word" not in text
    assert PASSWORD not in text


def test_an_unknown_folder_is_named(imap: ImapServer) -> None:
    settings = parse_imap_url("CERT_IMAP_URL", imap.url("Boîte-inconnue"))
    with pytest.raises(ImapError, match="folder 'Boîte-inconnue' cannot be opened"):
        log_in(settings, PASSWORD)


def test_connection_refused_and_timeout_are_clear() -> None:
    port = free_port()
    settings = parse_imap_url("CERT_IMAP_URL", f"imap://vigie@127.0.0.1:{port}/INBOX")
    with pytest.raises(ImapError, match=f"IMAP server 127.0.0.1:{port}: connection refused"):
        log_in(settings, PASSWORD)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        url = f"imap://vigie@127.0.0.1:{port}/INBOX?timeout=0.5"
        with pytest.raises(ImapError, match="no answer within 0.5 s"):
            log_in(parse_imap_url("CERT_IMAP_URL", url), PASSWORD)


def test_a_broken_connection_during_a_move_is_an_imap_error(imap: ImapServer) -> None:
    imap.append(message(1))
    with relay(imap) as front:
        settings = parse_imap_url("CERT_IMAP_URL", imap.url(port=front.port))
        with (
            pytest.raises(ImapError, match="connection lost during UID MOVE"),
            open_mailbox(settings, PASSWORD) as mailbox,
        ):
            uid = mailbox.uids(limit=1)[0]
            front.cut()
            mailbox.move(uid, "Done")
    assert [m.raw for m in imap.messages()] == [message(1)]


def test_plain_text_is_refused_to_a_remote_host(imap: ImapServer) -> None:
    """A server without STARTTLS reached on a non-loopback address: the password is not sent."""
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with relay(imap, bind=address) as front:
        url = f"imap://vigie@{address}:{front.port}/INBOX"
        with pytest.raises(ImapError, match="does not offer STARTTLS; use imaps://"):
            log_in(parse_imap_url("CERT_IMAP_URL", url), PASSWORD)
