"""A link the sanitiser removes is plain text on the page, never a dead <a>."""

import pytest

from posts.rendering import link_is_kept, render_markdown


@pytest.mark.parametrize(
    "markdown, text",
    [
        ("[x](javascript:alert(1))", "x"),
        ("[data](data:text/html,hi)", "data"),
        ("[call](tel:123)", "call"),
        ("[files](ftp://example.com/a)", "files"),
        ('<a href="vbscript:msgbox(1)">vb</a>', "vb"),
        ("<a>no address</a>", "no address"),
        ('<a href="JaVaScRiPt:alert(1)" title="t">mixed <em>case</em></a>', "mixed <em>case</em>"),
    ],
)
def test_a_link_without_an_allowed_address_keeps_only_its_text(markdown, text):
    html = render_markdown(markdown)
    assert "<a" not in html and "</a>" not in html
    assert text in html


def test_allowed_links_stay_links_beside_removed_ones():
    html = render_markdown(
        "[ok](https://example.com), [bad](javascript:x), [mail](mailto:a@example.com), [here](/posts/a/)"
    )
    assert html.count("<a ") == 3
    assert (
        'href="https://example.com"' in html and 'href="mailto:a@example.com"' in html and 'href="/posts/a/"' in html
    )
    assert "bad" in html and "javascript" not in html


@pytest.mark.parametrize(
    "href, kept",
    [
        ("https://example.com", True),
        ("/relative", True),
        ("mailto:a@b.c", True),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("ftp://x", False),
    ],
)
def test_link_is_kept_says_what_the_sanitiser_does(href, kept):
    assert link_is_kept(href) is kept
