"""html_to_text(): the readable text of an HTML message, never markup or script."""

from __future__ import annotations

import time

import pytest

from incidents.mailbox.htmltext import html_to_text


def test_structure_becomes_lines_and_lists() -> None:
    html = (
        "<html><head><title>Titre caché</title><style>p{color:red}</style></head><body>"
        "<h1>Alerte</h1><p>Bonjour&nbsp;l&#39;&eacute;quipe,</p>"
        "<div>ligne 1</div><div>ligne 2<br>ligne 3</div>"
        "<ul><li>un</li><li>deux</li></ul><p>Fin</p></body></html>"
    )
    assert html_to_text(html) == (
        "Alerte\n\nBonjour l'équipe,\n\nligne 1\nligne 2\nligne 3\n\n- un\n- deux\n\nFin"
    )


def test_script_style_template_noscript_are_skipped() -> None:
    html = (
        "<p>visible</p><script>var a = '<p>caché</p>';</script><template><p>t</p></template>"
        "<noscript>ns</noscript><style>.x{}</style><p>aussi</p>"
    )
    assert html_to_text(html) == "visible\n\naussi"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a href="https://evil.example/x?a=1&amp;b=2">ce lien</a>',
            "ce lien <https://evil.example/x?a=1&b=2>",
        ),
        ('<a href="http://x.example/">http://x.example/</a>', "http://x.example/"),
        ('<a href="mailto:soc@cert.gov.ma">écrire</a>', "écrire <mailto:soc@cert.gov.ma>"),
        ('<a href="mailto:soc@cert.gov.ma">soc@cert.gov.ma</a>', "soc@cert.gov.ma"),
        ('<a href="javascript:alert(1)">cliquer</a>', "cliquer"),
        ('<a href=" JaVaScRiPt:alert(1)">cliquer</a>', "cliquer"),
        ('<a href="data:text/html,x">voir</a>', "voir"),
        ('<a href="https://x.example/img"><img src="a.png"></a>', "https://x.example/img"),
        ('<a href="https://never.closed/">texte', "texte <https://never.closed/>"),
    ],
)
def test_links_are_written_out_when_safe(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_images_keep_their_alt_text_only() -> None:
    html = '<p>Logo : <img src="cid:logo" alt="Ministère"> <img src="https://t.example/p.gif"></p>'
    assert html_to_text(html) == "Logo : [Ministère]"


def test_arabic_right_to_left_text_is_preserved() -> None:
    html = '<div dir="rtl"><p>تم رصد هجوم تصيد</p><p>العنوان: 203.0.113.9</p></div>'
    assert html_to_text(html) == "تم رصد هجوم تصيد\n\nالعنوان: 203.0.113.9"


def test_escaped_markup_stays_text_and_tags_never_come_out() -> None:
    assert html_to_text("&lt;b&gt;gras&lt;/b&gt; <b>vrai</b>") == "<b>gras</b> vrai"
    assert "<" not in html_to_text("<p>a<b>b</b><i>c</i><span x='1'>d</span></p>")


def test_whitespace_is_collapsed_but_paragraphs_kept() -> None:
    html = "<p>  beaucoup   d'espaces\n\n et\tde lignes </p>\n\n\n<p>suite</p>"
    assert html_to_text(html) == "beaucoup d'espaces et de lignes\n\nsuite"


@pytest.mark.parametrize(
    "html",
    ["<a" * 500_000, "<!--" * 250_000, "<a x='" * 200_000, "<b>x</b>" * 60_000, "</" * 500_000],
)
def test_pathological_markup_is_read_quickly(html: str) -> None:
    started = time.perf_counter()
    html_to_text(html)
    assert time.perf_counter() - started < 1.5
