"""Comparing versions in the post admin: a refused save's diff, two revisions, restore and rename (moto)."""

from posts import services
from posts.models import Post
from posts.rules import PUBLISHED
from tests.posts.test_admin_posts import change_url, form_data, make_post


def page(response):
    return response.content.decode()


def section(html, element_id):
    """The HTML of the element with `element_id` up to its fieldset's end."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</fieldset>", start)]


# -- a refused save shows what differs --------------------------------------------------------


def test_a_refused_save_shows_the_diff_and_saving_again_goes_through(editor_client):
    post = make_post("shared", body="The quick brown fox jumps.", excerpt="Same excerpt", tags=["python"])
    opened = editor_client.get(change_url("shared")).context["form"]["_version"].value()
    first = form_data(
        title="Shared", body="The quick red fox jumps.", excerpt="Same excerpt", tags="python", _version=str(opened)
    )
    assert editor_client.post(change_url("shared"), first).status_code == 302
    mine = form_data(
        title="Shared <b>story</b>",
        body="The quick brown fox leaps.",
        excerpt="Same excerpt",
        tags="python, aws",
        _version=str(opened),
    )
    response = editor_client.post(change_url("shared"), mine)
    assert response.status_code == 200
    html = page(response)
    assert "Someone else saved this post after you opened it" in html
    diff = section(html, "stale-diff")
    # Saved "red ... jumps" against mine "brown ... leaps", word by word; unchanged fields are not listed.
    assert "<del>red</del><ins>brown</ins>" in diff and "<del>jumps</del><ins>leaps</ins>" in diff
    assert "<ins>, aws</ins>" in diff
    assert "&lt;b&gt;story&lt;/b&gt;" in diff and "<b>story</b>" not in diff  # escaped
    assert 'data-field="excerpt"' not in diff
    # The editor's text is kept, and the form now carries the saved version.
    form = response.context["form"]
    assert form["body"].value() == "The quick brown fox leaps."
    current = Post.get("shared")
    assert current.body == "The quick red fox jumps."
    assert int(form["_version"].value()) == current.version != post.version
    # Merged by hand, the save goes through.
    merged = dict(mine, body="The quick red fox leaps.", _version=form["_version"].value())
    assert editor_client.post(change_url("shared"), merged).status_code == 302
    assert Post.get("shared").body == "The quick red fox leaps."


def test_a_save_with_an_unreadable_version_is_refused_as_stale_and_says_so(editor_client):
    make_post("tampered", body="Saved text.")
    for version in ("abc", "1.5", "", "-1"):
        response = editor_client.post(
            change_url("tampered"), form_data(title="Tampered", body="My text.", _version=version, _save="1")
        )
        assert response.status_code == 200
        # The reason is on the page (not only "Please correct the error below"), and the text is kept.
        assert "Someone else saved this post after you opened it" in page(response)
        assert not response.context["form"].errors.get("_version")
        assert response.context["form"]["body"].value() == "My text."
    assert Post.get("tampered").body == "Saved text."


def test_a_normal_change_page_shows_no_diff(editor_client):
    make_post("calm")
    html = page(editor_client.get(change_url("calm")))
    assert 'id="stale-diff"' not in html


# -- the history compares two revisions ------------------------------------------------------------


def test_history_compares_two_chosen_revisions(editor_client):
    post = make_post("story", body="A first draft about cats.", tags=["pets"])
    post = services.update_post("story", expected_version=post.version, body="A second draft about dogs.")
    services.update_post("story", expected_version=post.version, title="Story told", tags=["pets", "dogs"])
    history = page(editor_client.get("/admin/posts/post/story/history/"))
    assert 'name="from" value="1"' in history and 'name="to" value="3"' in history
    assert 'id="revision-comparison"' not in history
    response = editor_client.get("/admin/posts/post/story/history/", {"from": "3", "to": "1"})
    diff = section(page(response), "revision-comparison")
    assert "Revision 1 → revision 3" in diff
    assert "<del>first</del><ins>second</ins>" in diff and "<del>cats</del><ins>dogs</ins>" in diff
    assert "<ins> told</ins>" in diff and "<ins>, dogs</ins>" in diff
    # Two neighbours: only what that save changed.
    diff = section(
        page(editor_client.get("/admin/posts/post/story/history/", {"from": "2", "to": "3"})), "revision-comparison"
    )
    body_row = diff.split('data-field="body"')[1].split("data-field=")[0]
    assert "<ins> told</ins>" in diff and "unchanged" in body_row and "<del>" not in body_row
    for field in ("status", "publish_at", "cover_image"):
        assert f'data-field="{field}"' in diff
    bad = page(editor_client.get("/admin/posts/post/story/history/", {"from": "1", "to": "99"}))
    assert "One of these revisions does not exist." in bad


def test_a_renamed_posts_history_and_revisions_follow_it(editor_client):
    post = make_post("before", body="one")
    services.rename_post("before", "after", expected_version=post.version)
    history = page(editor_client.get("/admin/posts/post/after/history/"))
    assert 'href="/admin/posts/post/after/revisions/1/"' in history
    assert "one" in page(editor_client.get("/admin/posts/post/after/revisions/1/"))


# -- restoring onto a live post asks first ---------------------------------------------------------


def test_restoring_onto_a_live_post_confirms_with_the_diff(editor_client):
    post = make_post("live", status=PUBLISHED, body="Old words here.")
    post = services.update_post("live", expected_version=post.version, body="New words here.")
    response = editor_client.post("/admin/posts/post/live/revisions/1/", {"expected_version": str(post.version)})
    assert response.status_code == 200
    html = page(response)
    assert "Yes, restore revision 1" in html and 'name="csrfmiddlewaretoken"' in html
    assert "<del>New</del><ins>Old</ins>" in html
    assert Post.get("live").body == "New words here."  # nothing restored yet
    confirmed = {"expected_version": str(post.version), "confirmed": "1"}
    response = editor_client.post("/admin/posts/post/live/revisions/1/", confirmed)
    assert response.status_code == 302 and response["Location"] == change_url("live")
    restored = Post.get("live")
    assert restored.body == "Old words here." and restored.status == PUBLISHED


def test_restoring_a_draft_goes_straight_through(editor_client):
    post = make_post("draft", body="one")
    post = services.update_post("draft", expected_version=post.version, body="two")
    response = editor_client.post("/admin/posts/post/draft/revisions/1/", {"expected_version": str(post.version)})
    assert response.status_code == 302 and Post.get("draft").body == "one"


def test_restore_confirmation_needs_csrf(aws, editor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    post = make_post("guarded", status=PUBLISHED, body="a")
    post = services.update_post("guarded", expected_version=post.version, body="b")
    data = {"expected_version": str(post.version), "confirmed": "1"}
    assert client.post("/admin/posts/post/guarded/revisions/1/", data).status_code == 403
    assert Post.get("guarded").body == "b"


# -- rename ------------------------------------------------------------------------------------------------


RENAME = "/admin/posts/post/{}/rename/"


def test_rename_from_the_change_form_and_the_old_address_redirects(editor_client, client):
    post = make_post("old-name", status=PUBLISHED)
    change = page(editor_client.get(change_url("old-name")))
    assert f'href="{RENAME.format("old-name")}"' in change
    assert "cannot be changed" not in change
    form = editor_client.get(RENAME.format("old-name")).context["form"]
    assert form["new_slug"].value() == "old-name" and form["expected_version"].value() == post.version
    response = editor_client.post(
        RENAME.format("old-name"), {"new_slug": "new-name", "expected_version": str(post.version)}, follow=True
    )
    assert response.redirect_chain[-1][0] == change_url("new-name")
    assert "its old address /posts/old-name/ redirects there" in page(response)
    assert Post.get("new-name").title == post.title
    public = client.get("/posts/old-name/")
    assert public.status_code == 301 and public["Location"].endswith("/posts/new-name/")


def test_renaming_a_draft_says_its_old_address_redirects_once_published(editor_client, client):
    post = make_post("draft-name")  # a draft
    response = editor_client.post(
        RENAME.format("draft-name"), {"new_slug": "better-name", "expected_version": str(post.version)}, follow=True
    )
    shown = page(response)
    assert "its old address /posts/draft-name/ will redirect there once it is published" in shown
    assert "redirects there." not in shown
    assert client.get("/posts/draft-name/").status_code == 404  # as it says: not yet


def test_rename_errors_are_form_errors(editor_client):
    post = make_post("mine")
    make_post("taken")
    url = RENAME.format("mine")
    taken = editor_client.post(url, {"new_slug": "taken", "expected_version": str(post.version)})
    assert taken.status_code == 200 and "already exists" in taken.context["form"].errors["new_slug"][0]
    bad = editor_client.post(url, {"new_slug": "Not A Slug!", "expected_version": str(post.version)})
    assert bad.status_code == 200 and "lowercase letters" in bad.context["form"].errors["new_slug"][0]
    same = editor_client.post(url, {"new_slug": "mine", "expected_version": str(post.version)})
    assert "already the post's slug" in same.context["form"].errors["new_slug"][0]
    changed = services.update_post("mine", expected_version=post.version, body="edited")
    stale = editor_client.post(url, {"new_slug": "fresh", "expected_version": str(post.version)})
    assert stale.status_code == 200 and "Someone else saved" in stale.context["form"].non_field_errors()[0]
    assert stale.context["form"]["expected_version"].value() == str(changed.version)
    # No readable version (missing, tampered): refused as stale, and said above the form, not on the hidden field.
    for version in ("", "abc", "1e3"):
        refused = editor_client.post(url, {"new_slug": "fresh", "expected_version": version})
        assert refused.status_code == 200 and "Someone else saved" in refused.context["form"].non_field_errors()[0]
        assert "Someone else saved" in page(refused)
    assert Post.get("mine") and Post.get("taken")
    assert not Post.count("fresh")


def test_rename_needs_change_permission_and_csrf(aws, make_editor, editor):
    from django.test import Client

    post = make_post("kept")
    viewer = Client()
    viewer.force_login(make_editor("viewer", "posts.view_post"))
    data = {"new_slug": "moved", "expected_version": str(post.version)}
    assert viewer.post(RENAME.format("kept"), data).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(RENAME.format("kept"), data).status_code == 403
    assert Post.get("kept") and not Post.count("moved")


def test_a_form_without_its_version_is_refused_with_the_diff_too(editor_client):
    make_post("blind", body="saved text")
    response = editor_client.post(change_url("blind"), form_data(title="Blind", body="typed text", _version=""))
    assert response.status_code == 200 and Post.get("blind").body == "saved text"
    assert "<del>saved</del><ins>typed</ins>" in section(page(response), "stale-diff")
    version = response.context["form"]["_version"].value()
    assert (
        editor_client.post(
            change_url("blind"), form_data(title="Blind", body="typed text", _version=version)
        ).status_code
        == 302
    )
    assert Post.get("blind").body == "typed text"


def test_a_viewer_sees_no_rename_link(aws, make_editor, client):
    make_post("looked-at")
    client.force_login(make_editor("viewer", "posts.view_post"))
    html = page(client.get(change_url("looked-at")))
    assert "Change post" not in html and "post-rename-link" not in html
