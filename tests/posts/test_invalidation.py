"""Publishing, editing and unpublishing purge exactly the CloudFront paths they change."""

import logging

import pytest

from photos.rendering import markdown_for_photo
from posts import invalidation, services
from posts.models import Post
from tests.reader_fixtures import original_key, pending_photo, publish, ready_photo

POST_PATHS = [
    "/posts/{slug}/",
    "/api/posts/{slug}",
    "/feeds/rss.xml",
    "/feeds/atom.xml",
    "/feed.json",
    "/sitemap.xml",
    "/sitemaps/*",
]
LISTING_PATHS = ["/", "/page/*", "/api/posts", "/api/posts?*"]
RELATED_PATHS = ["/posts/*"]  # post pages show related posts' cards


def _post_paths(slug):
    return [path.format(slug=slug) for path in POST_PATHS]


def _tag_paths(*tags):
    """The tag pages of `tags`, and the post pages (their related posts show the cards of these tags)."""
    return [f"/tags/{tag}/*" for tag in sorted(tags)] + RELATED_PATHS


@pytest.fixture
def distribution(aws, settings):
    """A CloudFront distribution (moto) configured as the site's."""
    cloudfront = aws.client("cloudfront")
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "MyBlog",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "api",
                        "DomainName": "abc123.execute-api.us-east-1.amazonaws.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "api",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    distribution_id = created["Distribution"]["Id"]
    settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = distribution_id
    return distribution_id


def _invalidated(aws, distribution_id):
    """The path lists of every invalidation made, oldest first."""
    cloudfront = aws.client("cloudfront")
    summaries = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])["Invalidation"]
        for summary in summaries
    ]
    batches.sort(key=lambda batch: batch["CreateTime"])
    return [sorted(batch["InvalidationBatch"]["Paths"]["Items"]) for batch in batches]


def test_publishing_purges_the_post_its_listings_feeds_and_sitemap(aws, distribution):
    publish("fresh", tags=["aws", "python"])
    assert _invalidated(aws, distribution) == [
        sorted(_post_paths("fresh") + LISTING_PATHS + _tag_paths("aws", "python"))
    ]


def test_drafts_and_scheduled_posts_purge_nothing(aws, distribution):
    post = services.create_post(slug="quiet", title="Quiet", tags=["x"], user="ed")
    services.update_post("quiet", expected_version=post.version, body="Still a draft", user="ed")
    assert _invalidated(aws, distribution) == []


def test_editing_only_the_body_leaves_listings_alone(aws, distribution):
    post = publish("typo", tags=["aws"])
    services.update_post("typo", expected_version=post.version, body="Fixed a typo.", user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("typo"))


def test_changing_the_cover_purges_the_listings_too(aws, distribution):
    """Cards show the cover (`posts/_card_cover.html`): a new cover, its text or its focus changes listings."""
    post = publish("recovered", tags=["aws"])
    post = services.update_post(
        "recovered", expected_version=post.version, cover_image="media/originals/x.jpg", user="ed"
    )
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("recovered") + LISTING_PATHS + _tag_paths("aws"))
    services.update_post("recovered", expected_version=post.version, cover_alt="A new text", user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("recovered") + LISTING_PATHS + _tag_paths("aws"))


def test_editing_what_listings_show_purges_them(aws, distribution):
    post = publish("retitled", tags=["aws"])
    services.update_post("retitled", expected_version=post.version, title="A better title", user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("retitled") + LISTING_PATHS + _tag_paths("aws"))


def test_retagging_purges_old_and_new_tag_pages(aws, distribution):
    post = publish("moved", tags=["aws", "python"])
    services.update_post("moved", expected_version=post.version, tags=["python", "django"], user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(
        _post_paths("moved") + LISTING_PATHS + _tag_paths("aws", "django", "python")
    )


def test_unpublishing_and_deleting_purge_where_the_post_was(aws, distribution):
    publish("leaving", tags=["aws"])
    services.unpublish_post("leaving", user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("leaving") + LISTING_PATHS + _tag_paths("aws"))
    services.publish_post("leaving", user="ed")
    services.delete_post("leaving")
    assert len(_invalidated(aws, distribution)) == 4
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("leaving") + LISTING_PATHS + _tag_paths("aws"))


def test_a_photo_made_ready_purges_the_pages_showing_it(aws, distribution):
    pending_photo("cover")
    pending_photo("inline")
    body = f"Hi.\n\n{markdown_for_photo(original_key('inline'), 'Inline')}"
    publish("waiting", tags=["photos"], body=body, cover_image=original_key("cover"))
    publish("elsewhere", tags=["other"])
    published = len(_invalidated(aws, distribution))
    ready_photo("inline")  # in the text only: the post's page, its API resource and the feeds
    assert _invalidated(aws, distribution)[published:] == [
        sorted(["/posts/waiting/", "/api/posts/waiting", "/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"])
    ]
    ready_photo("cover")  # the cover: the cards showing it too
    assert _invalidated(aws, distribution)[-1] == sorted(
        ["/posts/waiting/", "/api/posts/waiting", "/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"]
        + LISTING_PATHS
        + _tag_paths("photos")
    )
    ready_photo("unused")  # shown by no post: nothing to purge
    assert len(_invalidated(aws, distribution)) == published + 2


def test_a_rerendered_photo_with_avif_added_purges_its_posts(aws, distribution, job_queues):
    from photos import handlers, rerender
    from tests.photos.test_avif_renditions import KEY, made_before_avif

    made_before_avif(aws, KEY)
    publish("hills", tags=["walks"], body=markdown_for_photo(KEY, "Hills"), cover_image=KEY)
    assert 'type="image/avif"' not in Post.get("hills").body_html
    published = len(_invalidated(aws, distribution))
    rerender.start(only_missing=True)
    job_queues.drain(rerender.QUEUE, handlers.rerender_photos)
    assert 'type="image/avif"' in Post.get("hills").body_html
    # One purge when the job ends, of everything: the renditions were rewritten under their keys.
    assert _invalidated(aws, distribution)[published:] == [["/*"]]


def test_a_rerender_of_many_photos_purges_once_at_its_end(aws, distribution, job_queues):
    from photos import handlers, rerender
    from tests.photos.test_avif_renditions import made_before_avif

    for number in range(4):
        key = original_key(f"cover-{number}")
        made_before_avif(aws, key)
        publish(f"walk-{number}", tags=[f"walks-{number}"], cover_image=key)
    published = len(_invalidated(aws, distribution))
    job = rerender.start(only_missing=True)
    job_queues.drain(rerender.QUEUE, handlers.rerender_photos)
    for number in range(4):  # every cover's copy on its post has its AVIF renditions now
        assert "avif" in {rendition.format for rendition in Post.get(f"walk-{number}").cover_photo.renditions}
    assert _invalidated(aws, distribution)[published:] == [["/*"]]
    cloudfront = aws.client("cloudfront")
    references = [
        cloudfront.get_invalidation(DistributionId=distribution, Id=summary["Id"])["Invalidation"]["InvalidationBatch"]
        for summary in cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    ]
    [purge] = [batch for batch in references if batch["Paths"]["Items"] == ["/*"]]
    assert purge["CallerReference"].startswith(f"job-{job.job_id}-")


def test_a_rerender_that_renders_nothing_purges_nothing(aws, distribution, job_queues):
    from photos import handlers, rerender

    ready_photo("current")  # made with today's formats: nothing missing
    publish("current", cover_image=original_key("current"))
    published = len(_invalidated(aws, distribution))
    rerender.start(only_missing=True)
    job_queues.drain(rerender.QUEUE, handlers.rerender_photos)
    assert len(_invalidated(aws, distribution)) == published


def test_changed_paths_is_a_plain_function():
    before = Post("p", title="P", tags=["a"], status="published", feed="published")
    after = Post("p", title="P", tags=["a"], status="draft", feed=None)
    assert invalidation.changed_paths(after, before) == _post_paths("p") + LISTING_PATHS + _tag_paths("a")
    assert invalidation.changed_paths(None, after) == []


def test_without_a_distribution_nothing_is_called(aws, settings, monkeypatch):
    settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = ""
    services_called = []
    original = aws.client
    monkeypatch.setattr(aws, "client", lambda name, *args: services_called.append(name) or original(name, *args))
    publish("local-only")
    assert "cloudfront" not in services_called
    assert Post.get("local-only").is_live


def test_a_failed_invalidation_is_logged_and_the_save_stands(aws, settings, caplog):
    settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = "EDFDVBD6EXAMPLE"  # no such distribution
    with caplog.at_level(logging.ERROR, logger="posts.invalidation"):
        publish("saved-anyway", tags=["aws"])
    assert Post.get("saved-anyway").is_live
    [record] = [record for record in caplog.records if record.name == "posts.invalidation"]
    assert "CloudFront invalidation failed" in record.getMessage()
    assert "/posts/saved-anyway/" in record.getMessage()


def test_renaming_a_live_post_purges_both_addresses_and_its_listings(aws, distribution):
    post = publish("was-here", tags=["aws"])
    services.rename_post("was-here", "now-here", expected_version=post.version, user="ed")
    expected = (
        ["/posts/was-here/", "/posts/now-here/", "/api/posts/was-here", "/api/posts/now-here"]
        + POST_PATHS[2:]
        + LISTING_PATHS
        + _tag_paths("aws")
    )
    assert _invalidated(aws, distribution)[-1] == sorted(expected)


def test_renaming_a_draft_purges_nothing(aws, distribution):
    post = services.create_post(slug="quiet", title="Quiet")
    services.rename_post("quiet", "still-quiet", expected_version=post.version)
    assert _invalidated(aws, distribution) == []


def _address_paths(*slugs):
    return [f"/posts/{slug}/" for slug in slugs] + [f"/api/posts/{slug}" for slug in slugs]


def test_renaming_again_purges_every_old_address(aws, distribution):
    """Each old address's cached 301 leads to the slug the post had: all now lead to the new one."""
    post = publish("one", tags=["aws"])
    post = services.rename_post("one", "two", expected_version=post.version)
    services.rename_post("two", "three", expected_version=post.version)
    assert _invalidated(aws, distribution)[-1] == sorted(
        _address_paths("one", "two", "three") + POST_PATHS[2:] + LISTING_PATHS + _tag_paths("aws")
    )


def test_unpublishing_and_publishing_a_renamed_post_purge_its_old_addresses(aws, distribution):
    """Old addresses redirect only while the post is visible: their cached 301s (or 404s) go with it."""
    post = publish("before", tags=["aws"])
    post = services.rename_post("before", "after", expected_version=post.version)
    post = services.unpublish_post("after", expected_version=post.version)
    expected = sorted(_address_paths("after", "before") + POST_PATHS[2:] + LISTING_PATHS + _tag_paths("aws"))
    assert _invalidated(aws, distribution)[-1] == expected
    services.publish_post("after", expected_version=post.version)
    assert _invalidated(aws, distribution)[-1] == expected


def test_editing_a_renamed_post_leaves_its_old_addresses_alone(aws, distribution):
    post = publish("earlier", tags=["aws"])
    post = services.rename_post("earlier", "later", expected_version=post.version)
    services.update_post("later", expected_version=post.version, body="Fixed a typo.", user="ed")
    assert _invalidated(aws, distribution)[-1] == sorted(_post_paths("later"))
