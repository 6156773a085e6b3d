"""Recognising a feed document from its content (:mod:`feeds.rules.detect`)."""

from __future__ import annotations

import pytest

from feeds.rules.detect import decode, recognise
from feeds.rules.records import NotThatKind
from tests.feeds.stixdata import bundle, indicator

MANIFEST = (
    b'{"5f1c8f6e-6a34-4f5a-9a3b-0c2e8d1f3b7a": {"info": "Phishing wave", "timestamp": "1733300000",'
    b' "Orgc": {"name": "CERT"}, "Tag": []}}'
)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (bundle(indicator("[ipv4-addr:value = '198.51.100.7']")), "stix"),
        (b'\xef\xbb\xbf  {"type": "bundle", "objects": []}', "stix"),
        (b'{"Event": {"info": "x", "Attribute": []}}', "misp-event"),
        (b'{"info": "x", "Attribute": [{"type": "ip-dst", "value": "1.2.3.4"}]}', "misp-event"),
        (b'{"info": "x", "Object": []}', "misp-event"),
        (b'{"response": [{"Event": {"info": "x"}}]}', "misp-event"),
        (b"198.51.100.7 # caf\xe9\n203.0.113.9\n", "text"),  # one Latin-1 byte
        (MANIFEST, "misp-manifest"),
        (b"# blocklist\n198.51.100.7\nevil.example\n", "text"),
        (b"value,first_seen\n198.51.100.7,2026-11-01\n203.0.113.9,2026-11-02\n", "csv"),
        (b"198.51.100.7;botnet\n203.0.113.9;c2\n", "csv"),
        ("évil.example\n".encode(), "text"),
    ],
)
def test_documents_are_recognised_from_their_content(data: bytes, kind: str) -> None:
    assert recognise(data) == kind


def test_decode_returns_what_it_decoded() -> None:
    assert decode(b"a.example\n") == ("text", "a.example\n")
    assert decode(b'{"type": "bundle"}') == ("stix", {"type": "bundle"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "an empty document"),
        (b" \n\t\n", "an empty document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary document (NUL bytes)"),
        (b"\xff\xd8\xff\xe0 JFIF", "not UTF-8 text"),
        (b"PK\x03\x04\x14\x07 zip", "a binary document (control characters)"),
        (b"<!doctype html><title>Login</title>", "an HTML or XML page"),
        (b"  <?xml version='1.0'?><stix:STIX_Package/>", "an HTML or XML page"),
        (b'{"type": "bundle", "objects": [', "not valid JSON"),
        (b'{"type": "indicator", "id": "x"}', "a single STIX object (indicator), not a bundle"),
        (b'[{"Event": {"info": "a"}}]', "a list of MISP events"),
        (b'{"response": []}', "JSON, but not a STIX 2.1 bundle, a MISP event or a MISP feed"),
        (b"[1, 2, 3]", "JSON, but not a STIX 2.1 bundle"),
        (b"# only comments\n\n# here\n", "a text document with no value"),
    ],
)
def test_what_is_not_a_feed_document_is_refused_saying_what_it_is(
    data: bytes, message: str
) -> None:
    with pytest.raises(NotThatKind) as refused:
        recognise(data)
    assert message in str(refused.value)
