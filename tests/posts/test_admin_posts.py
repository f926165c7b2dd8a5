"""The posts CMS through the Django test client, on moto."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from posts import services
from posts.admin import PostAdmin
from posts.models import Post, PostTag, Revision
from posts.rendering import render_markdown
from posts.rules import DRAFT, PUBLISHED, SCHEDULED
from tests.reader_fixtures import pending_photo, ready_photo

CHANGELIST = "/admin/posts/post/"
ADD = "/admin/posts/post/add/"


def change_url(slug):
    return f"/admin/posts/post/{slug}/change/"


def form_data(**overrides):
    data = {"title": "Hello world", "slug": "", "body": "Some *text*.", "excerpt": "", "tags": "", "author": ""}
    data.update(overrides)
    return data


def make_post(slug, title=None, status=DRAFT, minutes_ago=0, **fields):
    now = timezone.now() - timedelta(minutes=minutes_ago)
    publish_at = now if status == PUBLISHED else fields.pop("publish_at", None)
    return services.create_post(
        slug=slug,
        title=title or slug.replace("-", " ").title(),
        status=status,
        publish_at=publish_at,
        now=now,
        **fields,
    )


def text(response):
    return unescape(response.content.decode())


# -- one admin: index, login, permissions ------------------------------------------------


def test_index_lists_posts_and_subscribers_next_to_users(admin_client, aws):
    page = text(admin_client.get("/admin/"))
    for href in ("/admin/auth/user/", "/admin/auth/group/", "/admin/posts/post/", "/admin/subscribers/subscriber/"):
        assert f'href="{href}"' in page


def test_the_posts_admin_passes_the_system_checks():
    from django.contrib import admin
    from django.core import checks

    from posts.placeholders import Post as PostPlaceholder

    assert isinstance(admin.site._registry[PostPlaceholder], PostAdmin)
    assert admin.site._registry[PostPlaceholder].check() == []
    assert [error for error in checks.run_checks(tags=[checks.Tags.admin]) if error.is_serious()] == []


def test_the_admin_checks_discover_the_admin_modules_themselves():
    """Without autodiscovery at start-up, `check` still checks every admin, whatever the checks' order."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys, django; django.setup()\n"
        "from django.core import checks\n"
        "assert 'posts.admin' not in sys.modules\n"
        "checks.run_checks(tags=[checks.Tags.admin])\n"
        "print('posts.admin' in sys.modules, 'subscribers.admin' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "myblog.settings", "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_anonymous_and_non_staff_users_are_sent_to_login(client, make_editor, aws):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(make_editor("reader", "posts.view_post", staff=False))
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(ADD, form_data()).status_code == 302
    assert list(Post.scan()) == []


def test_staff_without_post_permissions_is_refused(client, make_editor, aws):
    client.force_login(make_editor("nobody"))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(ADD).status_code == 403
    assert 'href="/admin/posts/post/"' not in text(client.get("/admin/"))


def test_view_only_editor_sees_a_read_only_form(client, make_editor, aws):
    make_post("seen", body="original")
    client.force_login(make_editor("viewer", "posts.view_post"))
    page = text(client.get(change_url("seen")))
    assert "View post" in page and 'name="_save"' not in page and "disabled" in page
    assert 'id="photo-drop"' not in page and "Set as cover" not in page and "Remove cover" not in page
    assert client.post(change_url("seen"), form_data(body="changed")).status_code == 403
    assert Post.get("seen").body == "original"


def test_publish_is_a_separate_permission(client, make_editor, writers_group, aws):
    writer = make_editor("writer")
    writer.groups.add(writers_group)
    client.force_login(writer)
    page = text(client.get(ADD))
    assert 'name="_save"' in page and 'name="_publish"' not in page and 'name="_schedule"' not in page
    response = client.post(ADD, form_data(title="Sneaky", _publish="1"))
    assert response.status_code == 403
    assert list(Post.scan()) == []
    make_post("draft-one")
    page = text(client.get(CHANGELIST))
    assert 'value="publish_selected"' not in page
    client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": ["draft-one"]})
    assert Post.get("draft-one").status == DRAFT


# -- change list ----------------------------------------------------------------------------


def test_change_list_is_newest_first_with_cursor_pages(editor_client, monkeypatch):
    monkeypatch.setattr(PostAdmin, "list_per_page", 2)
    for number in range(5):
        make_post(f"post-{number}", minutes_ago=10 - number)
    first = editor_client.get(CHANGELIST)
    slugs = re.findall(r'name="_selected_action" value="([^"]+)"', first.content.decode())
    assert slugs == ["post-4", "post-3"]
    cl = first.context["cl"]
    assert cl.page.has_next and cl.page.scanned == 2
    second = editor_client.get(CHANGELIST + cl.next_page_url)
    assert re.findall(r'name="_selected_action" value="([^"]+)"', second.content.decode()) == ["post-2", "post-1"]
    third = editor_client.get(CHANGELIST + second.context["cl"].next_page_url)
    assert re.findall(r'name="_selected_action" value="([^"]+)"', third.content.decode()) == ["post-0"]
    assert not third.context["cl"].page.has_next
    assert "First page" in text(third)


def test_tampered_cursor_falls_back_to_the_first_page(editor_client):
    make_post("only")
    response = editor_client.get(CHANGELIST + "?cursor=eyJzbHVnIjp7IlMiOiJ4In19:forged:sig")
    assert response.status_code == 200
    assert response.context["cl"].is_first_page
    assert "only" in text(response)


def test_status_filter_reads_the_status_index(editor_client):
    make_post("a-draft")
    make_post("live", status=PUBLISHED)
    response = editor_client.get(CHANGELIST + "?status=published")
    cl = response.context["cl"]
    assert [p.slug for p in cl.result_list] == ["live"]
    assert cl.query.source is Post.status_index and not cl.query.filtered
    assert [p.slug for p in editor_client.get(CHANGELIST + "?status=draft").context["cl"].result_list] == ["a-draft"]
    # An unknown status is ignored rather than sent to DynamoDB.
    assert len(editor_client.get(CHANGELIST + "?status=bogus").context["cl"].result_list) == 2


def test_tag_filter_combines_with_status(editor_client):
    make_post("py-draft", tags=["python"])
    make_post("py-live", status=PUBLISHED, tags=["python", "aws"])
    make_post("aws-live", status=PUBLISHED, tags=["aws"])
    assert {p.slug for p in editor_client.get(CHANGELIST + "?tag=Python").context["cl"].result_list} == {
        "py-draft",
        "py-live",
    }
    cl = editor_client.get(CHANGELIST + "?tag=python&status=published").context["cl"]
    assert [p.slug for p in cl.result_list] == ["py-live"]


def test_a_rare_filter_reads_a_bounded_number_of_items_per_page(editor_client, monkeypatch):
    monkeypatch.setattr(PostAdmin, "list_per_page", 2)
    monkeypatch.setattr(PostAdmin, "max_requests_per_page", 3)
    make_post("the-match", tags=["rare"], minutes_ago=60)
    for number in range(10):
        make_post(f"filler-{number}", minutes_ago=number)
    response = editor_client.get(CHANGELIST + "?tag=rare")
    cl = response.context["cl"]
    assert cl.result_list == [] and cl.page.partial and cl.page.scanned <= 6
    assert "Search further" in text(response)
    found = []
    url = CHANGELIST + "?tag=rare"
    for _ in range(5):
        cl = editor_client.get(url).context["cl"]
        assert cl.page.scanned <= 6
        found += [p.slug for p in cl.result_list]
        if not cl.page.has_next:
            break
        url = CHANGELIST + cl.next_page_url
    assert found == ["the-match"]


def test_search_matches_words_of_slug_or_title_and_exact_slug(editor_client):
    make_post("dynamodb-tips", title="Tips for DynamoDB", minutes_ago=5)
    make_post("serverless-django", title="Serverless Django")
    make_post("other", title="Something else")
    slugs = lambda q: [p.slug for p in editor_client.get(CHANGELIST, {"q": q}).context["cl"].result_list]  # noqa: E731
    assert slugs("dynamo") == ["dynamodb-tips"]
    assert slugs("Tips") == ["dynamodb-tips"]
    assert slugs("Serverless D") == ["serverless-django"]
    assert slugs("inside") == []
    assert slugs("other") == ["other"]
    # A word in the middle of a title, in any case.
    assert slugs("DJANGO") == ["serverless-django"]
    page = text(editor_client.get(CHANGELIST, {"q": "x"}))
    assert "does not search inside the text" in page


# -- add and change ---------------------------------------------------------------------------


def test_add_fills_the_slug_from_the_title_and_keeps_a_revision(editor_client, editor):
    response = editor_client.post(ADD, form_data(title="Hello, Serverless World!", tags="Python, AWS", _save="1"))
    assert response.status_code == 302
    assert response["Location"] == change_url("hello-serverless-world")
    post = Post.get("hello-serverless-world")
    assert (post.status, post.tags, post.author, post.updated_by) == (DRAFT, ["python", "aws"], "editor", "editor")
    assert [(r.version, r.saved_by) for r in Revision.query(post.slug)] == [(1, "editor")]
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.user, entry.is_addition()) == ("hello-serverless-world", editor, True)


def test_a_tag_nothing_of_which_can_be_kept_is_a_form_error(editor_client):
    response = editor_client.post(ADD, form_data(tags="python, ☃", _save="1"))
    assert response.status_code == 200
    assert "tags" in response.context["form"].errors
    assert "“☃” cannot be a tag" in text(response)
    assert list(Post.scan()) == []


@pytest.mark.parametrize("slug", ["Bad Slug!", "trailing-", "x" * 101, "ünï"])
def test_invalid_slug_is_a_form_error(editor_client, slug):
    response = editor_client.post(ADD, form_data(slug=slug, _save="1"))
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors
    assert "Use lowercase letters, numbers and single hyphens" in text(response)
    assert list(Post.scan()) == []


def test_missing_title_is_a_form_error(editor_client):
    response = editor_client.post(ADD, form_data(title="", slug="no-title", _save="1"))
    assert response.status_code == 200 and "title" in response.context["form"].errors


def test_slug_clash_is_a_friendly_error_and_keeps_the_text(editor_client):
    make_post("taken", body="first")
    response = editor_client.post(ADD, form_data(title="Another", slug="taken", body="my new text", _save="1"))
    assert response.status_code == 200
    page = text(response)
    assert "A post with the slug “taken” already exists" in page and "taken-2" in page
    assert "my new text" in page
    assert Post.get("taken").body == "first"


def test_publish_now_schedule_and_unpublish_from_the_form(editor_client):
    response = editor_client.post(ADD, form_data(title="Live", tags="news", _publish="1"))
    post = Post.get("live")
    assert post.status == PUBLISHED and post.publish_at <= timezone.now()
    assert [t.slug for t in PostTag.query("news")] == ["live"]
    follow = editor_client.get(response["Location"])
    assert "was published" in text(follow) and 'href="/posts/live/"' in text(follow)

    data = form_data(title="Live", _version=str(post.version), _unpublish="1")
    editor_client.post(change_url("live"), data)
    assert Post.get("live").status == DRAFT and list(PostTag.query("news")) == []

    later = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    version = str(Post.get("live").version)
    editor_client.post(change_url("live"), form_data(title="Live", publish_at=later, _version=version, _schedule="1"))
    post = Post.get("live")
    assert post.status == SCHEDULED and post.publish_at > timezone.now()


def test_schedule_needs_a_future_time(editor_client):
    response = editor_client.post(ADD, form_data(title="Soon", _schedule="1"))
    assert "Choose when the post should go live." in response.context["form"].errors["publish_at"]
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = editor_client.post(ADD, form_data(title="Soon", publish_at=past, _schedule="1"))
    assert "Choose a time in the future" in response.context["form"].errors["publish_at"][0]
    response = editor_client.post(ADD, form_data(title="Soon", publish_at="not a date", _schedule="1"))
    assert "publish_at" in response.context["form"].errors
    assert list(Post.scan()) == []


def test_a_live_post_keeps_its_date_when_edited(editor_client):
    post = make_post("dated", status=PUBLISHED, minutes_ago=600)
    editor_client.post(change_url("dated"), form_data(title="Dated", body="edited", _version=str(post.version)))
    saved = Post.get("dated")
    assert saved.status == PUBLISHED and saved.body == "edited" and saved.publish_at == post.publish_at


def test_the_slug_cannot_change_after_creation(editor_client):
    post = make_post("fixed")
    editor_client.post(change_url("fixed"), form_data(title="Fixed", slug="renamed", _version=str(post.version)))
    assert Post.get("fixed").title == "Fixed"
    with pytest.raises(Post.DoesNotExist):
        Post.get("renamed")


def test_second_of_two_concurrent_saves_fails_and_keeps_the_editors_text(editor_client):
    post = make_post("shared", body="v1")
    opened = editor_client.get(change_url("shared")).context["form"]["_version"].value()
    assert opened == post.version
    first = form_data(title="Shared", body="alice's text", _version=str(opened))
    assert editor_client.post(change_url("shared"), first).status_code == 302
    second = form_data(title="Shared", body="bob's careful text", _version=str(opened))
    response = editor_client.post(change_url("shared"), second)
    assert response.status_code == 200
    page = text(response)
    assert "Someone else saved this post after you opened it" in page
    assert "bob's careful text" in page and "Open the current version in a new tab" in page
    assert Post.get("shared").body == "alice's text"
    # A form without its version is refused the same way, never written blind.
    response = editor_client.post(change_url("shared"), form_data(title="Shared", body="blind", _version=""))
    assert response.status_code == 200 and Post.get("shared").body == "alice's text"


def test_change_page_links_history_and_view_on_site(editor_client):
    make_post("linked", status=PUBLISHED)
    page = text(editor_client.get(change_url("linked")))
    assert 'href="/admin/posts/post/linked/history/"' in page
    assert 'href="/posts/linked/"' in page and "View on site" in page
    # Drafts and scheduled posts are not on the site yet: no link to their 404.
    make_post("unseen")
    make_post("later", status=SCHEDULED, publish_at=timezone.now() + timedelta(days=1))
    for slug in ("unseen", "later"):
        page = text(editor_client.get(change_url(slug)))
        assert "View on site" not in page and f"/posts/{slug}/." in page  # the slug's help names the address


def test_form_labels_are_capitalised(editor_client):
    page = text(editor_client.get(ADD))
    for label in ("Title", "Slug", "Body", "Excerpt", "Tags", "Cover image description", "Author", "Go live at"):
        assert re.search(rf"<label[^>]*>{label}:</label>", page), label
    assert not re.search(r"<label[^>]*>[a-z][^<]*:</label>", page)


def test_a_live_posts_date_is_shown_but_not_editable(editor_client):
    post = make_post("aired", status=PUBLISHED, minutes_ago=600)
    form = editor_client.get(change_url("aired")).context["form"]
    assert form.fields["publish_at"].disabled and "keeps this date" in form.fields["publish_at"].help_text
    later = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    editor_client.post(change_url("aired"), form_data(title="Aired", publish_at=later, _version=str(post.version)))
    assert Post.get("aired").publish_at == post.publish_at
    make_post("not-yet")
    assert not editor_client.get(change_url("not-yet")).context["form"].fields["publish_at"].disabled


def test_change_list_pages_load_the_admins_translations_and_skip_empty_counts(editor_client):
    page = text(editor_client.get(CHANGELIST))
    assert '<script src="/admin/jsi18n/"></script>' in page  # the select-all counter needs it
    assert "No posts yet." in page and "on this page" not in page
    make_post("one")
    assert re.search(r"1 post on this page, of about <span[^>]*>1</span>\.", text(editor_client.get(CHANGELIST)))
    page = text(editor_client.get(CHANGELIST, {"q": "nothing"}))
    assert "No posts match." in page and "shown" not in page
    assert '<script src="/admin/jsi18n/"></script>' in text(editor_client.get(change_url("one")))


def test_missing_post_redirects_with_a_message(editor_client):
    response = editor_client.get(change_url("nope"), follow=True)
    assert "doesn’t exist" in text(response)


# -- preview ------------------------------------------------------------------------------------

PREVIEW = "/admin/posts/post/preview/"


def style_of(page):
    """The page's stylesheets: its <style> blocks and <link rel=stylesheet> addresses."""
    return re.findall(r"<style>(.*?)</style>", page, re.S) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)


def article_of(page):
    match = re.search(r'<article class="post".*?</article>', page, re.S)
    assert match, page
    return match.group(0)


def srcdoc_of(page):
    match = re.search(r'<iframe id="post-preview"[^>]* srcdoc="([^"]*)"', page)
    assert match, "no preview frame"
    return unescape(match.group(1))


def test_preview_renders_what_readers_see_and_sanitises(editor_client):
    body = "# Title\n\nHello <script>alert(1)</script> [x](javascript:alert(1)) <b onclick='x()'>bold</b>"
    response = editor_client.post(PREVIEW, {"body": body, "title": "<script>alert(2)</script>"})
    assert response.status_code == 200
    html = response.json()["html"]
    assert html == render_markdown(body, load_photos=lambda keys: {})
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html
    assert "<h2>Title</h2>" in html
    document = response.json()["document"]
    assert "<script" not in document.replace("&lt;script&gt;", "")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in document  # the title is escaped


def test_preview_document_is_the_public_post_page(editor_client, client):
    cover = ready_photo("cover")
    inline = ready_photo("inline")
    body = (
        "Some **bold** words.\n\n- one\n- two\n\n> A quote.\n\n"
        f"![A kite](photo:{inline.key})\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```"
    )
    post = make_post(
        "shown",
        status=PUBLISHED,
        body=body,
        tags=["birds", "walks"],
        author="ann",
        cover_image=cover.key,
        cover_alt="Hills at dawn",
    )
    public = client.get("/posts/shown/").content.decode()
    # What the change form sends: its fields as shown, and the post's slug.
    form = editor_client.get(change_url("shown")).context["form"]
    data = {name: form[name].value() for name in form.fields if name != "_version"}
    data["tags"] = form.fields["tags"].prepare_value(data["tags"])
    data["publish_at"] = re.search(r'value="([^"]+)"', form["publish_at"].as_widget()).group(1)
    data["post"] = "shown"
    document = editor_client.post(PREVIEW, data).json()["document"]
    # The same stylesheet, the same article (title, date, author, tags, cover, body).
    assert style_of(document) == style_of(public) and style_of(public)
    assert article_of(document) == article_of(public)
    assert '<div class="prose">' + render_markdown(body, load_photos=lambda keys: {inline.key: inline}) in document
    assert post.title in article_of(document) and "<picture>" in article_of(document)
    # The change form shows that same page in its preview frame, before any typing.
    page = editor_client.get(change_url("shown")).content.decode()
    assert article_of(srcdoc_of(page)) == article_of(public)
    assert style_of(srcdoc_of(page)) == style_of(public)


def test_preview_shows_a_photo_still_processing_from_a_presigned_original(editor_client, client):
    """Only editors see the preview: a photo just uploaded shows at once there, never on the site."""
    cover = pending_photo("waiting-cover")
    inline = pending_photo("waiting-inline")
    body = f"Text.\n\n![A kite](photo:{inline.key})"
    make_post("waiting", status=PUBLISHED, body=body, cover_image=cover.key, cover_alt="Hills")
    for document in (
        editor_client.post(PREVIEW, {"title": "Waiting", "body": body, "cover_image": cover.key}).json()["document"],
        srcdoc_of(editor_client.get(change_url("waiting")).content.decode()),
    ):
        sources = [unescape(src) for src in re.findall(r'<img[^>]* src="([^"]+)"', article_of(document))]
        assert [urlsplit(src).path for src in sources] == [f"/{cover.key}", f"/{inline.key}"]
        for src in sources:
            assert urlsplit(src).netloc.endswith(".s3.amazonaws.com") and "X-Amz-Signature=" in src
    public = client.get("/posts/waiting/").content.decode()
    assert "<img" not in article_of(public) and "originals/" not in public


def test_preview_frame_is_sandboxed_without_scripts(editor_client):
    page = editor_client.get(ADD).content.decode()
    frame = re.search(r'<iframe id="post-preview"[^>]*>', page).group(0)
    assert 'sandbox="allow-same-origin"' in frame and "allow-scripts" not in frame
    assert "<script" not in srcdoc_of(page)
    # A form that did not validate previews what the editor typed.
    response = editor_client.post(ADD, form_data(title="", slug="Bad Slug!", body="Typed *text*.", _save="1"))
    assert "<em>text</em>" in srcdoc_of(response.content.decode())


def test_preview_refuses_get_non_editors_and_requests_without_csrf(editor_client, client, editor, make_editor):
    assert editor_client.get(PREVIEW).status_code == 405
    assert editor_client.post(PREVIEW, {"body": "x" * 500_001}).status_code == 400
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(PREVIEW, {"body": "x"}).status_code == 403
    client.force_login(make_editor("viewer", "posts.view_post"))
    assert client.post(PREVIEW, {"body": "x"}).status_code == 403


def test_revision_page_shows_the_revision_as_the_post_page(editor_client):
    post = make_post("told", body="first *draft*")
    services.update_post("told", expected_version=post.version, body="second draft")
    page = editor_client.get("/admin/posts/post/told/revisions/1/").content.decode()
    assert "<em>draft</em>" in article_of(srcdoc_of(page))


# -- bulk actions --------------------------------------------------------------------------------


def test_bulk_publish_and_unpublish(editor_client):
    make_post("one")
    make_post("two")
    response = editor_client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": ["one", "two"]})
    assert response.status_code == 302
    assert {Post.get(s).status for s in ("one", "two")} == {PUBLISHED}
    assert "Published 2 posts." in text(editor_client.get(CHANGELIST))
    editor_client.post(CHANGELIST, {"action": "unpublish_selected", "_selected_action": ["one"]})
    assert Post.get("one").status == DRAFT and Post.get("two").status == PUBLISHED


def test_bulk_delete_asks_for_confirmation(editor_client):
    make_post("keep")
    make_post("gone-1")
    make_post("gone-2", status=PUBLISHED, tags=["x"])
    selection = {"action": "delete_selected", "_selected_action": ["gone-1", "gone-2"]}
    confirm = editor_client.post(CHANGELIST, selection)
    assert confirm.status_code == 200
    assert "Are you sure you want to delete these posts?" in text(confirm)
    assert {p.slug for p in Post.scan()} == {"keep", "gone-1", "gone-2"}
    editor_client.post(CHANGELIST, {**selection, "post": "yes"})
    assert {p.slug for p in Post.scan()} == {"keep"}
    assert list(PostTag.query("x")) == []


def test_action_without_selection_or_unknown_action_changes_nothing(editor_client):
    make_post("idle")
    response = editor_client.post(CHANGELIST, {"action": "publish_selected"}, follow=True)
    assert "Items must be selected" in text(response)
    response = editor_client.post(CHANGELIST, {"action": "drop_table", "_selected_action": ["idle"]}, follow=True)
    assert "No action selected." in text(response)
    assert Post.get("idle").status == DRAFT


def test_delete_view_confirms_then_deletes(editor_client):
    make_post("doomed")
    page = text(editor_client.get("/admin/posts/post/doomed/delete/"))
    assert "Are you sure you want to delete the post" in page and "revisions are kept" in page
    assert "This post is live" not in page
    make_post("on-air", status=PUBLISHED)
    assert "This post is live" in text(editor_client.get("/admin/posts/post/on-air/delete/"))
    response = editor_client.post("/admin/posts/post/doomed/delete/", {"post": "yes"})
    assert response.status_code == 302
    with pytest.raises(Post.DoesNotExist):
        Post.get("doomed")


def test_delete_needs_the_delete_permission(client, make_editor, aws):
    make_post("protected")
    client.force_login(make_editor("writer", "posts.view_post", "posts.change_post"))
    assert client.post("/admin/posts/post/protected/delete/", {"post": "yes"}).status_code == 403
    assert Post.get("protected")


# -- history and restore ---------------------------------------------------------------------------


def test_history_lists_revisions_and_restore_brings_one_back(editor_client):
    post = make_post("story", body="first draft")
    post = services.update_post("story", expected_version=post.version, body="second draft", user="ann")
    history = text(editor_client.get("/admin/posts/post/story/history/"))
    assert "second draft" not in history  # the list shows metadata, not bodies
    assert 'href="/admin/posts/post/story/revisions/1/"' in history and "ann" in history
    revision_page = text(editor_client.get("/admin/posts/post/story/revisions/1/"))
    assert "first draft" in revision_page and "Restore this revision" in revision_page
    current = text(editor_client.get("/admin/posts/post/story/revisions/2/"))
    assert "Revision 2 (current)" in current and "Restore this revision" not in current
    response = editor_client.post("/admin/posts/post/story/revisions/1/", {"expected_version": str(post.version)})
    assert response["Location"] == change_url("story")
    restored = Post.get("story")
    assert restored.body == "first draft" and restored.version == 3
    assert [r.note for r in Revision.query("story")][-1] == "Restored revision 1"


def test_restore_with_a_stale_version_is_refused(editor_client):
    post = make_post("race", body="one")
    services.update_post("race", expected_version=post.version, body="two")
    response = editor_client.post("/admin/posts/post/race/revisions/1/", {"expected_version": "1"}, follow=True)
    assert "Someone else saved this post" in text(response)
    assert Post.get("race").body == "two"
    response = editor_client.get("/admin/posts/post/race/revisions/99/", follow=True)
    assert "This post has no revision 99." in text(response)


def test_restore_service_keeps_status(aws):
    post = make_post("kept", status=PUBLISHED, body="old")
    post = services.update_post("kept", expected_version=post.version, body="new")
    restored = services.restore_revision("kept", 1, expected_version=post.version, user="ed")
    assert (restored.status, restored.body) == (PUBLISHED, "old")
    with pytest.raises(services.InvalidPost):
        services.restore_revision("kept", 42, expected_version=restored.version)


# -- scheduled publishing ------------------------------------------------------------------------------


def test_publish_due_posts_publishes_only_what_is_due(aws):
    now = timezone.now()
    services.create_post(slug="due-1", title="Due", status=SCHEDULED, publish_at=now + timedelta(minutes=1), now=now)
    services.create_post(slug="due-2", title="Due", status=SCHEDULED, publish_at=now + timedelta(minutes=2), now=now)
    services.create_post(slug="later", title="Later", status=SCHEDULED, publish_at=now + timedelta(hours=5), now=now)
    services.create_post(slug="draft", title="Draft", now=now)
    run_at = now + timedelta(minutes=5)
    assert sorted(services.publish_due_posts(now=run_at)) == ["due-1", "due-2"]
    assert [Post.get(s).status for s in ("due-1", "due-2", "later", "draft")] == [
        PUBLISHED,
        PUBLISHED,
        SCHEDULED,
        DRAFT,
    ]
    assert Post.get("due-1").publish_at == now + timedelta(minutes=1)  # its scheduled time, not the run's
    assert services.publish_due_posts(now=run_at) == []  # a second run changes nothing


def test_publish_due_posts_leaves_a_post_edited_meanwhile_for_the_next_run(aws, monkeypatch):
    now = timezone.now()
    services.create_post(slug="busy", title="Busy", status=SCHEDULED, publish_at=now + timedelta(minutes=1), now=now)
    real_update = services.update_post

    def edited_first(slug, **kwargs):
        # An editor saves just before the scheduler's write lands.
        post = Post.get(slug)
        real_update(
            slug,
            expected_version=post.version,
            body="edited",
            user="ann",
            status=SCHEDULED,
            publish_at=post.publish_at,
            now=now,
        )
        return real_update(slug, **kwargs)

    monkeypatch.setattr(services, "update_post", edited_first)
    assert services.publish_due_posts(now=now + timedelta(minutes=5)) == []
    assert (Post.get("busy").status, Post.get("busy").body) == (SCHEDULED, "edited")
    monkeypatch.setattr(services, "update_post", real_update)
    assert services.publish_due_posts(now=now + timedelta(minutes=5)) == ["busy"]
    assert Post.get("busy").body == "edited"


@pytest.mark.parametrize("count", [1, 30])
def test_publish_due_posts_follows_query_pages(aws, count):
    now = timezone.now()
    for number in range(count):
        services.create_post(
            slug=f"s-{number}", title="S", status=SCHEDULED, publish_at=now + timedelta(seconds=number + 1), now=now
        )
    assert len(services.publish_due_posts(now=now + timedelta(hours=1))) == count
