"""The content checks before publishing: the plain functions, and the post form's panel and endpoint."""

from html import unescape

from posts import checks, services

ADD = "/admin/posts/post/add/"
CHECKS = "/admin/posts/post/checks/"
PHOTO = "photo:media/originals/2026/11/abc.jpg"


def codes(body, **cover):
    return [finding.code for finding in checks.check_post(body, **cover)]


def test_a_clean_post_has_no_findings():
    body = f"Intro.\n\n## Part\n\n### Detail\n\n![A red door]({PHOTO}) See [the AWS docs](https://aws.amazon.com)."
    assert codes(body, cover_image="media/originals/2026/11/abc.jpg", cover_alt="A door") == []


def test_images_and_cover_without_description():
    assert codes(f"![]({PHOTO})") == ["image-alt"]
    assert codes("<img src='https://example.com/a.png'>") == ["image-alt"]
    assert codes("", cover_image="media/originals/2026/11/abc.jpg", cover_alt=" ") == ["cover-alt"]
    assert codes("", cover_image="media/originals/2026/11/abc.jpg", cover_alt="", cover_decorative=True) == []
    assert codes("", cover_image=None, cover_alt="") == []


def test_skipped_heading_levels_count_from_the_page_title():
    assert codes("### Too deep") == ["heading-skip"]
    assert codes("# Shown as h2\n\n### Fine") == []
    assert codes("## A\n\n#### Skips three") == ["heading-skip"]
    assert codes("## A\n\n### B\n\n## C\n\n### D") == []
    [finding] = checks.check_post("## A\n\n#### Deep")
    assert "“Deep”" in finding.message and "level 3 (###" in finding.message


def test_vague_and_empty_link_texts():
    assert codes("[Click here!](https://example.com)") == ["link-text"]
    assert codes("[here](https://example.com) and [Read more](https://example.com)") == ["link-text", "link-text"]
    assert codes("[](https://example.com)") == ["link-text"]
    assert codes(f"[![A door]({PHOTO})](https://example.com)") == []
    assert codes("[Where to eat in Porto](https://example.com)") == []


def test_links_the_sanitiser_removes():
    assert codes("[x](javascript:alert(1))") == ["link-removed"]
    assert codes("[call](tel:123) [files](ftp://example.com)") == ["link-removed", "link-removed"]
    assert codes("[ok](mailto:a@example.com) [rel](/posts/other/)") == []


def test_very_long_paragraphs():
    assert codes("word " * (checks.MAX_PARAGRAPH_WORDS + 1)) == ["long-paragraph"]
    assert codes("word " * checks.MAX_PARAGRAPH_WORDS) == []


def test_the_form_shows_the_checks_of_what_was_saved(editor_client):
    response = editor_client.get(ADD)
    assert 'id="post-checks"' in response.content.decode() and "No problems found." in response.content.decode()
    services.create_post(slug="checked", title="Checked", body="### Deep\n\n[click here](https://example.com)")
    page = unescape(editor_client.get("/admin/posts/post/checked/change/").content.decode())
    assert 'data-code="heading-skip"' in page and 'data-code="link-text"' in page
    assert '<script src="/static/posts/checks.js" defer></script>' in page or "posts/checks.js" in page


def test_a_form_shown_again_after_an_error_checks_the_typed_text(editor_client):
    response = editor_client.post(ADD, {"title": "", "slug": "", "body": "[x](javascript:alert(1))", "tags": ""})
    assert response.status_code == 200
    assert 'data-code="link-removed"' in response.content.decode()


def test_the_checks_endpoint_answers_json(editor_client, client, make_editor):
    answer = editor_client.post(
        CHECKS, {"body": "#### Deep\n\n[here](https://example.com)", "cover_image": "x", "cover_alt": ""}
    )
    assert answer.status_code == 200
    assert [f["code"] for f in answer.json()["findings"]] == ["cover-alt", "heading-skip", "link-text"]
    assert all(f["level"] == "warning" for f in answer.json()["findings"])
    assert editor_client.get(CHECKS).status_code == 405
    assert editor_client.post(CHECKS, {"body": "x" * 600_000}).status_code == 400
    # (`client` is the editor's client: log another user in on it.)
    client.force_login(make_editor("reader"))
    assert client.post(CHECKS, {"body": ""}).status_code == 403


def test_a_cover_marked_decorative_needs_no_description(editor_client):
    from posts.models import Post

    cover = "media/originals/2026/11/abc.jpg"
    data = {"body": "", "cover_image": cover, "cover_alt": ""}
    assert [f["code"] for f in editor_client.post(CHECKS, data).json()["findings"]] == ["cover-alt"]
    assert editor_client.post(CHECKS, {**data, "cover_decorative": "on"}).json()["findings"] == []
    form = {"title": "Decorated", "slug": "decorated", "body": "Text.", "tags": "", "author": "", "excerpt": ""}
    response = editor_client.post(ADD, {**form, "cover_decorative": "on"})
    assert response.status_code == 302
    assert Post.get("decorated").cover_decorative is True
    page = editor_client.get("/admin/posts/post/decorated/change/").content.decode()
    assert 'name="cover_decorative"' in page and "checked" in page.split('name="cover_decorative"')[1][:120]
