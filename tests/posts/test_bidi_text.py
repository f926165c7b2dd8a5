"""Directional overrides and isolates never reach what readers see: they are stripped where posts are saved."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posts import rules, services
from posts.models import Post, PostTag, Revision
from posts.rules import BIDI_CONTROLS, PUBLISHED

LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
LRM, RLM, ALM = "\u200e", "\u200f", "\u061c"


def test_the_controls_are_the_embeddings_overrides_and_isolates():
    assert {LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI} == BIDI_CONTROLS


def test_stripping_keeps_everything_else():
    assert rules.strip_bidi_controls(f"invoice{RLO}fdp.exe{PDF}") == "invoicefdp.exe"
    assert rules.strip_bidi_controls(f"{LRI}x{PDI} {FSI}y{PDI}{RLE}z{PDF}{LRE}{LRO}{RLI}") == "x yz"
    hebrew = f"שלום{RLM} C++{LRM} مرحبا{ALM}"
    assert rules.strip_bidi_controls(hebrew) == hebrew  # marks are not controls
    assert rules.strip_bidi_controls(None) is None


@given(st.text())
def test_no_control_survives_stripping(text):
    stripped = rules.strip_bidi_controls(text)
    assert not set(stripped) & BIDI_CONTROLS
    assert stripped == "".join(c for c in text if c not in BIDI_CONTROLS)


def test_a_saved_post_keeps_no_control_in_any_text(aws):
    post = services.create_post(
        slug="spoof",
        title=f"Read {RLO}me{PDF}",
        body=f"A {LRI}body{PDI} with [a link](https://example.com/{RLO}x) and {RLM}marks.",
        excerpt=f"{RLE}Excerpt{PDF}",
        author=f"ed{RLO}",
        cover_alt=f"{FSI}alt{PDI}",
        tags=[f"ne{RLO}ws", f"{LRI}aws{PDI}"],
        status=PUBLISHED,
    )
    stored = Post.get("spoof")
    assert (stored.title, stored.excerpt, stored.author, stored.cover_alt) == ("Read me", "Excerpt", "ed", "alt")
    assert stored.body == f"A body with [a link](https://example.com/x) and {RLM}marks."
    assert stored.tags == ["news", "aws"]
    assert {item.title for item in PostTag.query("news")} == {"Read me"}
    (revision,) = Revision.query("spoof")
    assert revision.title == "Read me" and revision.tags == ["news", "aws"]
    updated = services.update_post("spoof", expected_version=post.version, title=f"{RLI}New{PDI}", body=f"x{LRO}")
    assert (updated.title, Post.get("spoof").body) == ("New", "x")


def test_a_title_of_controls_only_is_no_title(aws):
    with pytest.raises(services.InvalidPost) as raised:
        services.create_post(slug="empty", title=f"{RLO}{PDF}")
    assert raised.value.field == "title"


def test_restoring_an_old_revision_strips_its_controls(aws):
    post = services.create_post(slug="old", title="Old")
    Revision("old", 99, title=f"Then{RLO}", body=f"{LRI}text", tags=["t"]).save()
    restored = services.restore_revision("old", 99, expected_version=post.version)
    assert (restored.title, restored.body) == ("Then", "text")


def test_the_admin_saves_and_previews_the_text_without_controls(editor_client):
    data = {"title": f"Hi {RLO}there", "slug": "hi", "body": f"Body{PDI}", "excerpt": "", "tags": f"a{LRO}b"}
    response = editor_client.post("/admin/posts/post/add/", data)
    assert response.status_code == 302
    post = Post.get("hi")
    assert (post.title, post.body, post.tags) == ("Hi there", "Body", ["ab"])
    preview = editor_client.post("/admin/posts/post/preview/", data).json()
    assert not set(preview["document"]) & BIDI_CONTROLS
    assert "Hi there" in preview["document"]
