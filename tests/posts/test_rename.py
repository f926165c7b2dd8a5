"""Renaming a post: one transaction, its history and listings follow, the old slugs redirect.

On both engines (`dynamodb`): the transaction's conditions and the
redirects' are what DynamoDB Local enforces.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from photos.models import Photo
from posts import redirects, services
from posts.models import Post, PostRedirect, PostTag, Revision
from posts.rules import PUBLISHED

pytestmark = pytest.mark.usefixtures("dynamodb")


def live(slug, **fields):
    now = timezone.now() - timedelta(hours=1)
    fields.setdefault("title", slug.title())
    fields.setdefault("tags", ["python", "aws"])
    return services.create_post(slug=slug, status=PUBLISHED, publish_at=now, now=now, **fields)


def history(post):
    return [(r.version, r.title, r.note) for r in Revision.query(post.history_id or post.slug)]


def test_rename_moves_the_post_its_tags_and_history_in_one_go():
    post = live("old-name", body="Text.")
    post = services.update_post("old-name", expected_version=post.version, title="Edited", body="Text 2.")
    renamed = services.rename_post("old-name", "new-name", expected_version=post.version, user="ed")
    with pytest.raises(Post.DoesNotExist):
        Post.get("old-name")
    saved = Post.get("new-name", consistent_read=True)
    assert (saved.title, saved.body, saved.status) == ("Edited", "Text 2.", PUBLISHED)
    assert saved.publish_at == post.publish_at
    assert saved.version == renamed.version == post.version + 1
    assert saved.former_slugs == ["old-name"] and saved.history_id == "old-name"
    # The listings show the new slug only.
    assert sorted(item.slug for item in PostTag.query("python")) == ["new-name"]
    assert sorted(item.slug for item in PostTag.query("aws")) == ["new-name"]
    # The history goes on where it was, numbered on.
    assert history(saved) == [
        (1, "Old-Name", "Created"),
        (2, "Edited", ""),
        (3, "Edited", "Renamed from old-name to new-name"),
    ]
    edited = services.update_post("new-name", expected_version=saved.version, title="Edited again")
    assert history(edited)[-1] == (4, "Edited again", "")
    assert PostRedirect.get("old-name").target == "new-name"
    assert redirects.target_of("old-name") == "new-name"
    assert redirects.target_of("new-name") is None
    # Restoring a revision from before the rename works at the new slug.
    restored = services.restore_revision("new-name", 1, expected_version=edited.version)
    assert restored.title == "Old-Name" and restored.slug == "new-name"


def test_the_admin_search_and_the_photo_uses_follow_the_rename():
    from posts import words
    from posts.models import PhotoUse

    key = "media/originals/2026/12/" + "a" * 32 + ".jpg"
    post = live("lisbon-trams", title="Trams of Lisbon", body=f"![A tram](photo:{key})", cover_image=key)
    assert [use.slug for use in PhotoUse.query(key)] == ["lisbon-trams"]
    services.rename_post("lisbon-trams", "trams", expected_version=post.version)
    assert [match.slug for match in words.search("lisbon").matches] == ["trams"]
    assert [use.slug for use in PhotoUse.query(key)] == ["trams"]


def test_chains_collapse_and_renaming_back_removes_the_redirect():
    post = live("a")
    post = services.rename_post("a", "b", expected_version=post.version)
    post = services.rename_post("b", "c", expected_version=post.version)
    assert {item.slug: item.target for item in PostRedirect.scan()} == {"a": "c", "b": "c"}
    assert Post.get("c").former_slugs == ["b", "a"]
    post = services.rename_post("c", "a", expected_version=post.version)
    assert {item.slug: item.target for item in PostRedirect.scan()} == {"b": "a", "c": "a"}
    assert Post.get("a").former_slugs == ["c", "b"]
    assert [r.version for r in Revision.query("a")] == [1, 2, 3, 4]


def test_a_new_post_reclaiming_an_old_slug_removes_its_redirect_and_keeps_its_own_history():
    post = live("first")
    post = services.rename_post("first", "second", expected_version=post.version)
    newcomer = services.create_post(slug="first", title="A new post")
    assert redirects.target_of("first") is None
    assert newcomer.history_id.startswith("first~")
    assert history(newcomer) == [(1, "A new post", "Created")]
    # The renamed post's history is untouched.
    assert history(post) == [(1, "First", "Created"), (2, "First", "Renamed from first to second")]
    # Renaming the renamed post again does not take the reclaimed slug back.
    services.rename_post("second", "third", expected_version=post.version)
    assert {item.slug: item.target for item in PostRedirect.scan()} == {"second": "third"}
    assert Post.get("third").former_slugs == ["second"]
    assert Post.get("first").title == "A new post"


def test_renaming_onto_a_taken_or_bad_slug_or_from_a_stale_version_changes_nothing():
    post = live("mine")
    live("theirs")
    with pytest.raises(services.SlugTaken):
        services.rename_post("mine", "theirs", expected_version=post.version)
    with pytest.raises(services.InvalidPost) as bad:
        services.rename_post("mine", "Not A Slug!", expected_version=post.version)
    assert bad.value.field == "slug"
    with pytest.raises(services.InvalidPost):
        services.rename_post("mine", "mine", expected_version=post.version)
    with pytest.raises(services.StaleVersion):
        services.rename_post("mine", "moved", expected_version=post.version - 1)
    with pytest.raises(services.StaleVersion):
        services.rename_post("nobody", "moved", expected_version=1)
    assert Post.get("mine").version == post.version
    assert not list(PostRedirect.scan())
    with pytest.raises(Post.DoesNotExist):
        Post.get("moved")


def test_a_slug_taken_between_the_check_and_the_transaction_cancels_everything(monkeypatch):
    post = live("racing")
    real_get = Post.get
    checked = []

    def get(slug, *args, **kwargs):
        # The rename's check finds the slug free; another editor creates it right after.
        if slug == "wanted" and not checked:
            checked.append(slug)
            services.create_post(slug="wanted", title="Got there first")
            raise Post.DoesNotExist()
        return real_get(slug, *args, **kwargs)

    monkeypatch.setattr(Post, "get", get)
    with pytest.raises(services.SlugTaken):
        services.rename_post("racing", "wanted", expected_version=post.version)
    monkeypatch.undo()
    assert Post.get("racing").version == post.version
    assert Post.get("wanted").title == "Got there first"
    assert not list(PostRedirect.scan())
    assert sorted(item.slug for item in PostTag.query("python")) == ["racing"]


def test_photos_uploaded_for_the_post_follow_it():
    post = live("with-photo")
    Photo("media/originals/2026/01/one.jpg", owner="with-photo", content_type="image/jpeg").save()
    Photo("media/originals/2026/01/other.jpg", owner="someone-else", content_type="image/jpeg").save()
    services.rename_post("with-photo", "moved-photo", expected_version=post.version)
    assert Photo.get("media/originals/2026/01/one.jpg").owner == "moved-photo"
    assert Photo.get("media/originals/2026/01/other.jpg").owner == "someone-else"


# -- what readers see of an old address ------------------------------------------------------------------


def _answers(client, slug):
    """(status, Location) of the old page and API resource of `slug`."""
    page, api = client.get(f"/posts/{slug}/"), client.get(f"/api/posts/{slug}")
    return (page.status_code, page.get("Location")), (api.status_code, api.get("Location"))


def _unknown(client, slug, secret):
    """`slug` answers as a slug no post ever had, and no answer names `secret`."""
    page, api = client.get(f"/posts/{slug}/"), client.get(f"/api/posts/{slug}")
    never = client.get("/posts/never-was-a-post/")
    assert (page.status_code, api.status_code) == (404, 404)
    assert page.content == never.content and page["Cache-Control"] == never["Cache-Control"]
    assert api.json() == client.get("/api/posts/never-was-a-post").json()
    assert secret not in page.content.decode() + api.content.decode()
    assert "Location" not in page and "Location" not in api


def test_a_renamed_drafts_old_address_reveals_nothing(client):
    post = services.create_post(slug="secret-plan", title="Secret")
    post = services.rename_post("secret-plan", "surprise-launch", expected_version=post.version)
    assert redirects.target_of("secret-plan") is None
    _unknown(client, "secret-plan", "surprise-launch")
    # Once published, the old address leads to it like any renamed post's.
    services.publish_post("surprise-launch", expected_version=post.version)
    assert _answers(client, "secret-plan") == (
        (301, "/posts/surprise-launch/"),
        (301, "/api/posts/surprise-launch"),
    )


def test_a_new_post_at_a_renamed_drafts_old_slug_keeps_its_own_history():
    post = services.create_post(slug="draft-name", title="Draft")
    post = services.rename_post("draft-name", "better-name", expected_version=post.version)
    newcomer = services.create_post(slug="draft-name", title="Another post")
    assert newcomer.history_id.startswith("draft-name~")
    assert history(newcomer) == [(1, "Another post", "Created")]
    assert history(post) == [(1, "Draft", "Created"), (2, "Draft", "Renamed from draft-name to better-name")]


def test_an_unpublished_post_renamed_is_not_revealed_by_any_of_its_old_addresses(client):
    post = live("first-name")
    post = services.rename_post("first-name", "second-name", expected_version=post.version)
    assert _answers(client, "first-name")[0] == (301, "/posts/second-name/")
    post = services.unpublish_post("second-name", expected_version=post.version)
    _unknown(client, "first-name", "second-name")  # a 301 to a 404 would name it
    post = services.rename_post("second-name", "third-name", expected_version=post.version)
    for old in ("first-name", "second-name"):
        _unknown(client, old, "third-name")
    post = services.publish_post("third-name", expected_version=post.version)
    for old in ("first-name", "second-name"):
        assert _answers(client, old) == ((301, "/posts/third-name/"), (301, "/api/posts/third-name"))
    services.delete_post("third-name", expected_version=post.version)
    for old in ("first-name", "second-name"):
        _unknown(client, old, "third-name")


def test_a_post_scheduled_after_its_rename_is_not_revealed_before_its_time(client):
    post = live("on-time")
    post = services.rename_post("on-time", "later-on", expected_version=post.version)
    post = services.unpublish_post("later-on", expected_version=post.version)
    services.publish_post("later-on", expected_version=post.version, publish_at=timezone.now() + timedelta(days=2))
    assert Post.get("later-on").publish_at > timezone.now()
    _unknown(client, "on-time", "later-on")


def test_an_old_address_is_cached_at_the_edge_like_the_page_it_leads_to(client):
    from myblog import caching

    post = live("cached-name")
    services.rename_post("cached-name", "cached-new", expected_version=post.version)
    page, api = client.get("/posts/cached-name/"), client.get("/api/posts/cached-name")
    assert (page.status_code, api.status_code) == (301, 301)
    assert page["Cache-Control"] == caching.POST.header == client.get("/posts/cached-new/")["Cache-Control"]
    assert api["Cache-Control"] == caching.CONTENT.header == client.get("/api/posts/cached-new")["Cache-Control"]
    assert "private" not in page["Cache-Control"] and "ETag" not in page
