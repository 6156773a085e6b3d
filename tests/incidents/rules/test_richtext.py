"""incidents.rules.richtext: Markdown as analysts write it, and what an attacker writes."""

from __future__ import annotations

import pytest

from incidents.rules.richtext import clean, plain, render

REL = 'rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**gras** et _italique_", "<p><strong>gras</strong> et <em>italique</em></p>"),
        ("ligne 1\nligne 2", "<p>ligne 1<br>ligne 2</p>"),  # Enter is a line break
        ("a\n\n---\n\nb", "<p>a</p><hr><p>b</p>"),  # no line ends: pages show pre-wrap
        ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
        ("1. a\n2. b", "<ol><li>a</li><li>b</li></ol>"),
        ("> cité", "<blockquote><p>cité</p></blockquote>"),
        ("`a < b`", "<p><code>a &lt; b</code></p>"),
        ("```sh\nrm -rf <x>\n```", "<pre><code>rm -rf &lt;x&gt;\n</code></pre>"),
        ("# Titre\n## Sous-titre\n#### Plus bas",
         "<h4>Titre</h4><h5>Sous-titre</h5><h6>Plus bas</h6>"),
        ("[CERT](https://cert.ma/a?b=1)", f'<p><a href="https://cert.ma/a?b=1" {REL}>CERT</a></p>'),
        ("[écrire](mailto:soc@cert.ma)", f'<p><a href="mailto:soc@cert.ma" {REL}>écrire</a></p>'),
        ("https://cert.ma", "<p>https://cert.ma</p>"),  # no automatic links
        ("نص عربي **مهم**", "<p>نص عربي <strong>مهم</strong></p>"),
    ],
)  # fmt: skip
def test_markdown_as_analysts_write_it(source: str, html: str) -> None:
    assert render(source) == html


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ('<a href="https://x">h</a>', '<p>&lt;a href="https://x"&gt;h&lt;/a&gt;</p>'),
        ("<b onclick=x()>b</b>", "<p>&lt;b onclick=x()&gt;b&lt;/b&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>"),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>"),
        ("[x](data:text/html;base64,PHN=)", "<p>[x](data:text/html;base64,PHN=)</p>"),
        ("[x](data:image/png;base64,AAAA)", f"<p><a {REL}>x</a></p>"),
        ("[x](ftp://files.example/a)", f"<p><a {REL}>x</a></p>"),
        ("[x](/admin/users)", f"<p><a {REL}>x</a></p>"),  # no relative links
        ("[x](//evil.example)", f"<p><a {REL}>x</a></p>"),
        ("![pixel](https://evil.example/t.png)",
         f'<p>!<a href="https://evil.example/t.png" {REL}>pixel</a></p>'),
        ('[x](https://a.example "t" onclick=y)', '<p>[x](https://a.example "t" onclick=y)</p>'),
    ],
)  # fmt: skip
def test_what_an_attacker_writes_stays_text(source: str, html: str) -> None:
    """Raw HTML is text, script-like and relative links lose their target, no image is
    loaded (a tracking pixel would tell an attacker who read the message and when)."""
    assert render(source) == html
    assert "<img" not in render(source) and "<script" not in render(source)


def test_clean_keeps_the_allow_list_of_stored_html() -> None:
    stored = '<p onclick="x()">a <img src=x> <a href="javascript:y()">b</a></p><script>z</script>'
    assert clean(stored) == f"<p>a  <a {REL}>b</a></p>"


def test_plain_text_is_shown_as_written_never_read_as_markup() -> None:
    text = (
        "Bonjour,\r\n\r\n*pas* du **Markdown** # ni <b>HTML</b> <script>x()</script>\n"
        "  retrait\n\n\n\nFin & suite"
    )
    assert plain(text) == (
        "<p>Bonjour,</p>"
        "<p>*pas* du **Markdown** # ni &lt;b&gt;HTML&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;"
        "<br>  retrait</p><p>Fin &amp; suite</p>"
    )
    assert plain("[lien](javascript:alert(1)) https://exemple.ma") == (
        "<p>[lien](javascript:alert(1)) https://exemple.ma</p>"
    )
    assert plain(" \n\n ") == ""
