"""Text and CSV blocklists as abuse-tracking projects publish them, read by
:func:`feeds.rules.blocklist.parse_list`: comments, headers, quoted fields, CRLF, byte-order
marks, NUL bytes, oversized lines, type guessing, and documents that are not lists."""

from __future__ import annotations

import pytest

from feeds.rules.blocklist import MAX_LINE, decode_list, guess_type, parse_list
from feeds.rules.records import NotThatKind

# as abuse.ch's Feodo Tracker and URLhaus publish their CSV exports (header in a comment)
FEODO = (
    "\ufeff################################################################\r\n"
    "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)           #\r\n"
    "################################################################\r\n"
    "#\r\n"
    '# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\r\n'
    '"2026-11-30 10:01:02","198.51.100.7","443","online","2026-12-03","QakBot"\r\n'
    '"2026-11-30 11:01:02","203.0.113.9","8080","offline","2026-12-01","Emotet"\r\n'
    '"2026-11-30 12:01:02","203.0.113.300","443","online","2026-12-03","Pikabot"\r\n'
    '"2026-11-30 13:01:02"\r\n'
    '"2026-11-30 14:01:02","198.51.100.\x0012","443","online","2026-12-03","QakBot"\r\n'
    "\r\n"
    "# END 4 entries\r\n"
)


def test_csv_with_comments_quotes_crlf_bom_and_bad_lines() -> None:
    parsed = parse_list(FEODO, value_type="ipv4", column=2, delimiter=",")

    assert parsed.kind == "csv"
    assert [r.source_ref for r in parsed.indicators] == [
        "ipv4:198.51.100.7",
        "ipv4:203.0.113.9",
    ]
    assert [(r.ref, r.reason) for r in parsed.rejections] == [
        ("line 8", "IPv4 octet 300 in '203.0.113.300' is out of range 0-255"),
        ("line 9", "no column 2 (the line has 1)"),
        ("line 10", "the line holds a NUL byte"),
    ]


def test_a_header_line_is_tolerated_and_quoted_delimiters_kept() -> None:
    text = (
        "id;dateadded;url;threat\n"
        '1;2026-12-01;"http://evil.example/a;b";malware_download\n'
        "2;2026-12-01;http://198.51.100.7/x.sh;malware_download\n"
        "; a comment\n"
        "3;2026-12-01;" + "http://evil.example/" + "a" * MAX_LINE + ";malware_download\n"
    )

    parsed = parse_list(text, value_type="url", column=3, delimiter=";")

    assert [r.values[0].value for r in parsed.indicators] == [
        "http://evil.example/a;b",
        "http://198.51.100.7/x.sh",
    ]
    assert [r.ref for r in parsed.rejections] == ["line 5"]
    assert f"over {MAX_LINE}" in parsed.rejections[0].reason


def test_only_the_first_data_line_may_be_a_header() -> None:
    parsed = parse_list("ip\n198.51.100.7\nip\n", value_type="ipv4", column=1, delimiter=None)

    assert len(parsed.indicators) == 1
    assert [r.ref for r in parsed.rejections] == ["line 3"]


def test_text_list_with_inline_comments_and_guessed_types() -> None:
    text = (
        "; Spamhaus DROP-like\n"
        "1.10.16.0/20 ; SBL256894\n"
        "2001:db8::/32\n"
        "evil[.]example   # defanged\n"
        "hxxp://evil.example/login\n"
        "Phisher@Evil.Example\n"
        "D41D8CD98F00B204E9800998ECF8427E\n" + "a" * 40 + "\n" + "b" * 64 + "\n"
        "CVE-2024-3400\n"
        "198.51.100.7\n"
        "1.2.3.999\n"
        "not a value\n"
    )

    parsed = parse_list(text, value_type=None, column=1, delimiter=None)

    assert parsed.kind == "text"
    assert [r.source_ref for r in parsed.indicators] == [
        "ipv4:1.10.16.0/20",
        "ipv6:2001:db8::/32",
        "domain:evil.example",
        "url:http://evil.example/login",
        "email:phisher@evil.example",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha1:" + "a" * 40,
        "sha256:" + "b" * 64,
        "cve:CVE-2024-3400",
        "ipv4:198.51.100.7",
    ]
    reasons = {r.ref: r.reason for r in parsed.rejections}
    assert set(reasons) == {"line 12", "line 13"}
    assert "out of range" in reasons["line 12"]


def test_a_hosts_file_by_its_second_column() -> None:
    text = "# hosts\n0.0.0.0 ads.example\n0.0.0.0 track.example # tracker\n"

    parsed = parse_list(text, value_type="domain", column=2, delimiter=None)

    assert [r.values[0].value for r in parsed.indicators] == ["ads.example", "track.example"]


def test_a_given_type_is_enforced() -> None:
    parsed = parse_list(
        "198.51.100.7\n2001:db8::1\nevil.example\n", value_type="ipv4", column=1, delimiter=None
    )

    assert [r.source_ref for r in parsed.indicators] == ["ipv4:198.51.100.7"]
    assert [r.ref for r in parsed.rejections] == ["line 2", "line 3"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("198.51.100.7", "ipv4"),
        ("198.51.100.0/24", "ipv4"),
        ("010.1.1.1", "ipv4"),
        ("::1", "ipv6"),
        ("[2001:db8::1]", "ipv6"),
        ("evil.example", "domain"),
        ("https://evil.example", "url"),
        ("a@b.example", "email"),
        ("a" * 32, "md5"),
        ("cve-2021-44228", "cve"),
    ],
)
def test_guessing_by_shape(value: str, kind: str) -> None:
    assert guess_type(value) == kind


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty document"),
        (" \r\n\n", "empty document"),
        ("<!DOCTYPE html>\n<html><body>Rate limited</body></html>", "HTML page"),
        ("\ufeff<html>\n", "HTML page"),
        ("\x00\x01\x02" * 50, "binary"),
        (b"\x1f\x8b\x08\x00\xff\xfe\xfa\xfb".decode(errors="replace") * 20, "binary"),
        ("Too many requests, try again later\n", "no line holds a valid value .line 1: 'Too"),
        ("Too many requests\nTry again later\n", "no line holds a valid value .line 2: "),
    ],
)
def test_documents_that_are_not_lists_are_refused(text: str, says: str) -> None:
    with pytest.raises(NotThatKind, match=says):
        parse_list(text, value_type=None, column=1, delimiter=None)


@pytest.mark.parametrize(
    "body",
    [
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",  # gzip
        b"PK\x03\x04zipped",
        "198.51.100.7\n".encode("utf-16"),
        b"\x00\x01\x02\x03" * 64,
    ],
)
def test_binary_documents_are_refused(body: bytes) -> None:
    with pytest.raises(NotThatKind, match="binary"):
        decode_list(body)


def test_bytes_that_are_not_utf8_only_cost_their_line() -> None:
    text = decode_list(b"# caf\xe9\n198.51.100.7\nevil\xff.example\n")

    parsed = parse_list(text, value_type=None, column=1, delimiter=None)

    assert [r.source_ref for r in parsed.indicators] == ["ipv4:198.51.100.7"]
    assert [r.ref for r in parsed.rejections] == ["line 3"]


def test_a_wrong_column_is_a_refused_document_not_an_empty_list() -> None:
    with pytest.raises(NotThatKind, match="line 6: no column 9"):
        parse_list(FEODO, value_type="ipv4", column=9, delimiter=",")
