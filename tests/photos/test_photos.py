"""Photo uploads: the presigned POST policy, the JSON endpoints, thumbnails."""

import base64
import html
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from PIL import Image

from photos import uploads
from photos.admin import panel_photos
from photos.models import Photo, Rendition
from photos.queries import photos_of_owner
from photos.rendering import keys_in_markdown
from photos.status import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY
from posts import services
from posts.models import Post

UPLOAD = "/admin/posts/post/photos/upload/"
STATUS = "/admin/posts/post/photos/status/"


def jpeg_bytes(width=64, height=48):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def policy_of(upload):
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


def ask(client, **payload):
    return client.post(UPLOAD, json.dumps(payload), content_type="application/json")


def assert_presigned_original(url, key):
    """`url` is a presigned S3 GET of the original `key`, valid 15 minutes (never a CloudFront URL)."""
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == f"{settings.MYBLOG_MEDIA_BUCKET}.s3.amazonaws.com"
    assert parts.path == "/" + key
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]
    assert query["X-Amz-Expires"] == [str(uploads.ORIGINAL_URL_EXPIRES_SECONDS)] == ["900"]
    assert settings.MYBLOG_CLOUDFRONT_DOMAIN not in url


def test_upload_policy_pins_key_type_and_size(aws):
    upload = uploads.create_upload(content_type="image/jpeg", size=1234, user="ed", owner="story")
    key = upload["key"]
    assert key.startswith(settings.MYBLOG_ORIGINALS_PREFIX) and key.endswith(".jpg")
    conditions = policy_of(upload)["conditions"]
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, settings.MYBLOG_MAX_UPLOAD_BYTES] in conditions
    assert upload["fields"]["Content-Type"] == "image/jpeg"
    photo = Photo.get(key)
    assert (photo.status, photo.uploaded_by, photo.owner, photo.content_type) == (
        PHOTO_PENDING,
        "ed",
        "story",
        "image/jpeg",
    )


def test_each_upload_gets_a_fresh_key(aws):
    keys = {uploads.create_upload(content_type="image/png", size=10)["key"] for _ in range(3)}
    assert len(keys) == 3


@pytest.mark.parametrize(
    ("content_type", "size", "message"),
    [
        ("application/pdf", 100, "Only photos can be uploaded"),
        ("image/svg+xml", 100, "Only photos can be uploaded"),
        ("", 100, "Only photos can be uploaded"),
        ("image/jpeg", None, "size is missing"),
        ("image/jpeg", "lots", "size is missing"),
        ("image/jpeg", 0, "empty"),
        ("image/jpeg", 25 * 1024 * 1024 + 1, "the largest upload is 25 MB"),
    ],
)
def test_bad_upload_requests_are_rejected_before_any_write(aws, content_type, size, message):
    with pytest.raises(uploads.UploadRejected, match=message):
        uploads.create_upload(content_type=content_type, size=size)
    assert list(Photo.scan()) == []


def test_the_browser_can_post_the_file_to_s3_with_the_policy(aws):
    upload = uploads.create_upload(content_type="image/jpeg", size=len(jpeg_bytes()))
    # Signature Version 4: buckets created since June 2020 refuse SigV2, botocore's default for presigning.
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    response = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("kite.jpg", jpeg_bytes(), "image/jpeg")}, timeout=10
    )
    assert response.status_code in (200, 201, 204)
    stored = aws.client("s3").get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=upload["key"])
    assert stored["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored["Body"].read())).size == (64, 48)


def test_editors_see_an_original_through_a_short_lived_presigned_url(aws):
    upload = uploads.create_upload(content_type="image/jpeg", size=len(jpeg_bytes()))
    requests.post(
        upload["url"], data=upload["fields"], files={"file": ("k.jpg", jpeg_bytes(), "image/jpeg")}, timeout=10
    )
    url = uploads.original_url(upload["key"])
    assert_presigned_original(url, upload["key"])
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == jpeg_bytes()


# -- the admin endpoints ------------------------------------------------------------------------


def test_upload_endpoint_grants_an_upload(editor_client):
    response = ask(editor_client, content_type="image/webp", size=5000, post="my-post")
    assert response.status_code == 201
    body = response.json()
    assert body["key"].endswith(".webp") and body["url"] and body["fields"]["policy"]
    assert body["photo"]["status"] == PHOTO_PENDING
    assert_presigned_original(body["photo"]["original_url"], body["key"])
    assert body["photo"]["markdown"] == f"![](photo:{body['key']})"
    assert Photo.get(body["key"]).owner == "my-post"


def test_oversized_or_non_image_upload_is_a_400_with_the_reason(editor_client):
    response = ask(editor_client, content_type="image/jpeg", size=settings.MYBLOG_MAX_UPLOAD_BYTES + 1)
    assert response.status_code == 400 and "largest upload" in response.json()["error"]["message"]
    response = ask(editor_client, content_type="text/html", size=10)
    assert response.status_code == 400 and "Only photos" in response.json()["error"]["message"]
    assert list(Photo.scan()) == []


@override_settings(MYBLOG_MAX_UPLOAD_BYTES=1000)
def test_size_limit_follows_the_setting(editor_client):
    assert ask(editor_client, content_type="image/png", size=1001).status_code == 400
    granted = ask(editor_client, content_type="image/png", size=1000).json()
    assert ["content-length-range", 1, 1000] in policy_of(granted)["conditions"]


def test_malformed_upload_requests(editor_client):
    assert editor_client.post(UPLOAD, "not json", content_type="application/json").status_code == 400
    assert editor_client.post(UPLOAD, "[1, 2]", content_type="application/json").status_code == 400
    assert editor_client.get(UPLOAD).status_code == 405


def test_upload_needs_a_staff_editor(client, make_editor, aws):
    response = ask(client, content_type="image/jpeg", size=10)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(make_editor("reader", "posts.add_post", staff=False))
    assert ask(client, content_type="image/jpeg", size=10).status_code == 302
    client.force_login(make_editor("viewer", "posts.view_post"))
    assert ask(client, content_type="image/jpeg", size=10).status_code == 403
    assert list(Photo.scan()) == []


def test_upload_endpoint_checks_csrf(editor, aws):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert ask(strict, content_type="image/jpeg", size=10).status_code == 403


def test_status_shows_the_original_until_the_thumbnail_is_ready(editor_client):
    key = ask(editor_client, content_type="image/jpeg", size=10).json()["key"]
    pending = editor_client.get(STATUS, {"key": key}).json()
    assert pending["status"] == PHOTO_PENDING and pending["thumbnail_url"] is None
    assert_presigned_original(pending["original_url"], key)

    photo = Photo.get(key)
    photo.update(
        actions=[
            Photo.status.set(PHOTO_READY),
            Photo.width.set(2000),
            Photo.height.set(1500),
            Photo.renditions.set(
                [
                    Rendition(width=w, height=w * 3 // 4, format=f, key=f"media/renditions/x-{w}.{f}")
                    for w in (160, 480, 960)
                    for f in ("jpeg", "webp")
                ]
            ),
        ]
    )
    ready = editor_client.get(STATUS, {"key": key}).json()
    assert ready["status"] == PHOTO_READY
    assert ready["thumbnail_url"] == "https://d111111abcdef8.cloudfront.net/media/renditions/x-480.jpeg"
    assert_presigned_original(ready["original_url"], key)
    assert len(ready["renditions"]) == 6 and (ready["width"], ready["height"]) == (2000, 1500)


def test_status_of_a_failed_or_unknown_photo(editor_client):
    key = ask(editor_client, content_type="image/jpeg", size=10).json()["key"]
    Photo.get(key).update(actions=[Photo.status.set(PHOTO_FAILED), Photo.error.set("not an image")])
    failed = editor_client.get(STATUS, {"key": key}).json()
    assert (failed["status"], failed["error"]) == (PHOTO_FAILED, "not an image")
    assert editor_client.get(STATUS, {"key": "media/originals/none.jpg"}).status_code == 404
    assert editor_client.get(STATUS, {"key": "../etc/passwd"}).status_code == 404
    assert editor_client.post(STATUS, {"key": key}).status_code == 405


def test_post_form_lists_the_posts_photos_and_sets_a_cover(editor_client):
    first = ask(editor_client, content_type="image/jpeg", size=10).json()["key"]
    second = ask(editor_client, content_type="image/png", size=10).json()["key"]
    body = f"Intro\n\n![A kite](photo:{second})\n"
    assert keys_in_markdown(body) == [second]
    response = editor_client.post(
        "/admin/posts/post/add/",
        {"title": "With photos", "body": body, "cover_image": first, "cover_alt": "Hills", "_save": "1"},
    )
    assert response.status_code == 302
    page = editor_client.get(response["Location"]).content.decode()
    assert f'data-key="{first}"' in page and f'data-key="{second}"' in page
    assert Post.get("with-photos").cover_image == first


def ready(key, widths=(160, 480, 960)):
    """Mark a granted upload ready, with renditions (as the thumbnail handler does)."""
    Photo(key).update(
        actions=[
            Photo.status.set(PHOTO_READY),
            Photo.renditions.set(
                [
                    Rendition(width=w, height=w * 2 // 3, format=f, key=f"media/renditions/{key[-12:]}-{w}.{f}")
                    for w in widths
                    for f in ("jpeg", "webp")
                ]
            ),
        ]
    )
    return Photo.get(key)


def test_panel_lists_the_posts_uploads_cover_and_body_photos_with_one_query(aws, dynamodb_calls):
    services.create_post(slug="trip", title="Trip")
    kept = uploads.create_upload(content_type="image/jpeg", size=10, owner="trip")["key"]
    dropped = uploads.create_upload(content_type="image/jpeg", size=10, owner="trip")["key"]  # not in the text
    elsewhere = uploads.create_upload(content_type="image/jpeg", size=10, owner="other")["key"]
    cover = uploads.create_upload(content_type="image/jpeg", size=10)["key"]  # uploaded with no post
    ready(kept)
    body = f"![Kite](photo:{kept})\n\n![Other](photo:{elsewhere})"
    dynamodb_calls.clear()
    listed = panel_photos("trip", shown_keys=[cover, *keys_in_markdown(body)])
    assert [info["key"] for info in listed] == [kept, dropped, cover, elsewhere]
    assert dynamodb_calls.names == ["Query", "BatchGetItem"]
    assert dynamodb_calls.operations[0][1]["IndexName"] == "post-index"
    assert listed[0]["status_label"] == "ready" and listed[0]["thumbnail_url"].endswith("-480.jpeg")
    assert listed[1]["status_label"] == "processing…" and listed[1]["thumbnail_url"] is None
    # Everything the post shows was uploaded for it: the Query alone.
    dynamodb_calls.clear()
    assert [info["key"] for info in panel_photos("trip", shown_keys=keys_in_markdown(f"![Kite](photo:{kept})"))] == [
        kept,
        dropped,
    ]
    assert dynamodb_calls.names == ["Query"]
    assert panel_photos("nothing-here") == []


def test_change_form_lists_photos_uploaded_for_the_post_earlier(editor_client):
    services.create_post(slug="album", title="Album")
    earlier = ask(editor_client, content_type="image/jpeg", size=10, post="album").json()["key"]
    other = ask(editor_client, content_type="image/jpeg", size=10, post="another").json()["key"]
    page = editor_client.get("/admin/posts/post/album/change/").content.decode()
    assert f'data-key="{earlier}"' in page and f'data-key="{other}"' not in page
    assert "Insert into text" in page and "Set as cover" in page
    # The card shows the original (presigned: originals are private) until its thumbnail exists.
    card = re.search(rf'<li class="photo-card" data-key="{earlier}".*?</li>', page, re.S).group(0)
    assert_presigned_original(html.unescape(re.search(r'<img src="([^"]+)"', card).group(1)), earlier)
    ready(earlier)
    page = editor_client.get("/admin/posts/post/album/change/").content.decode()
    card = re.search(rf'<li class="photo-card" data-key="{earlier}".*?</li>', page, re.S).group(0)
    assert re.search(r'<img src="https://d111111abcdef8\.cloudfront\.net/media/renditions/[^"]+-480\.jpeg"', card)


def test_uploads_from_the_add_form_belong_to_the_post_once_saved(editor_client):
    new = ask(editor_client, content_type="image/jpeg", size=10).json()["key"]
    taken = ask(editor_client, content_type="image/jpeg", size=10, post="someone-elses").json()["key"]
    assert Photo.get(new).owner is None
    # A form that does not validate keeps the uploads in its panel and in the form.
    data = {"title": "", "body": "No photo in the text yet.", "uploaded_photos": [new, taken, "../x"]}
    page = editor_client.post("/admin/posts/post/add/", {**data, "_save": "1"}).content.decode()
    assert f'data-key="{new}"' in page and f'name="uploaded_photos" value="{new}"' in page
    assert "../x" not in page
    response = editor_client.post("/admin/posts/post/add/", {**data, "title": "Gallery", "_save": "1"})
    assert response.status_code == 302
    assert Photo.get(new).owner == "gallery"
    assert Photo.get(taken).owner == "someone-elses"  # never moved from another post
    assert [photo.key for photo in photos_of_owner("gallery")] == [new]
    page = editor_client.get(response["Location"]).content.decode()
    assert f'data-key="{new}"' in page


def test_cover_fieldset_shows_the_current_cover_and_its_status(editor_client):
    key = ask(editor_client, content_type="image/jpeg", size=10).json()["key"]
    services.create_post(slug="covered", title="Covered", cover_image=key, cover_alt="Hills")
    page = editor_client.get("/admin/posts/post/covered/change/").content.decode()
    widget = re.search(r'<div class="cover-photo" id="cover-photo">.*?</div>', page, re.S).group(0)
    assert re.search(rf'<input type="hidden" name="cover_image" value="{key}" id="id_cover_image">', widget)
    # The original, through a presigned URL, until renditions exist.
    src = html.unescape(re.search(r'<img class="cover-photo-image" alt="" src="([^"]+)"', widget).group(1))
    assert_presigned_original(src, key)
    assert "processing…" in widget
    assert "Remove cover" in widget and '<p class="cover-photo-none" hidden>' in widget
    assert page.count('name="cover_image"') == 1

    ready(key)
    widget = re.search(
        r'<div class="cover-photo".*?</div>',
        editor_client.get("/admin/posts/post/covered/change/").content.decode(),
        re.S,
    ).group(0)
    assert "-480.jpeg" in widget and ">ready<" in widget and "X-Amz-Signature" not in widget

    # Removing the cover (the hidden key emptied) saves a post without one.
    version = str(Post.get("covered").version)
    editor_client.post(
        "/admin/posts/post/covered/change/",
        {"title": "Covered", "cover_image": "", "cover_alt": "", "_version": version, "_save": "1"},
    )
    assert Post.get("covered").cover_image is None
    widget = re.search(
        r'<div class="cover-photo".*?</div>',
        editor_client.get("/admin/posts/post/covered/change/").content.decode(),
        re.S,
    ).group(0)
    assert "No cover photo" in widget and '<figure class="cover-photo-current" hidden>' in widget


def test_cover_must_be_an_uploaded_original(editor_client):
    response = editor_client.post(
        "/admin/posts/post/add/", {"title": "Bad cover", "cover_image": "https://evil.example/x.jpg", "_save": "1"}
    )
    assert response.status_code == 200 and "cover_image" in response.context["form"].errors


def test_photo_index_is_added_to_an_existing_table(dynamodb):
    """On moto and on DynamoDB Local, which checks the index's key order."""
    from devstack.tables import ensure_table
    from myblog import aws

    client = aws.client("dynamodb")
    client.delete_table(TableName=Photo.Meta.table_name)
    client.create_table(
        TableName=Photo.Meta.table_name,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert ensure_table(Photo).endswith("added index post-index, added index status-index")
    indexes = client.describe_table(TableName=Photo.Meta.table_name)["Table"]["GlobalSecondaryIndexes"]
    assert sorted(index["IndexName"] for index in indexes) == ["post-index", "status-index"]
    assert ensure_table(Photo).endswith("is up to date")


# -- the upload endpoint checks JSON types, and answers the API's error shape ------------------------

DEEP = "[" * 1000 + "]" * 1000  # about 2 KB: deeper than Python's recursion limit


def assert_api_error(response, status, code=None):
    """A 4xx with exactly the public API's error body: {"error": {"code", "message"}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message"]
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param('{"content_type": ["image/jpeg"], "size": 1}', "invalid_field", id="content-type-list"),
        pytest.param('{"content_type": 5, "size": 1}', "invalid_field", id="content-type-number"),
        pytest.param('{"content_type": true, "size": 1}', "invalid_field", id="content-type-boolean"),
        pytest.param('{"content_type": null, "size": 1}', "invalid_field", id="content-type-null"),
        pytest.param('{"content_type": {"type": "image/jpeg"}, "size": 1}', "invalid_field", id="content-type-object"),
        pytest.param('{"content_type": "image/jpeg", "size": 1e999}', "invalid_json", id="size-1e999"),
        pytest.param('{"content_type": "image/jpeg", "size": -1e999}', "invalid_json", id="size-minus-1e999"),
        pytest.param('{"content_type": "image/jpeg", "size": 1.5}', "invalid_field", id="size-fraction"),
        pytest.param('{"content_type": "image/jpeg", "size": 1.0}', "invalid_field", id="size-float"),
        pytest.param('{"content_type": "image/jpeg", "size": "1"}', "invalid_field", id="size-string"),
        pytest.param('{"content_type": "image/jpeg", "size": true}', "invalid_field", id="size-true"),
        pytest.param('{"content_type": "image/jpeg", "size": false}', "invalid_field", id="size-false"),
        pytest.param('{"content_type": "image/jpeg", "size": null}', "invalid_field", id="size-null"),
        pytest.param('{"content_type": "image/jpeg", "size": [1]}', "invalid_field", id="size-list"),
        pytest.param('{"content_type": "image/jpeg", "size": NaN}', "invalid_json", id="size-nan"),
        pytest.param('{"content_type": "image/jpeg", "size": Infinity}', "invalid_json", id="size-infinity"),
        pytest.param('{"content_type": "image/jpeg", "size": 1' + "0" * 400 + "}", "upload_rejected", id="size-huge"),
        pytest.param('{"content_type": "image/jpeg", "size": 1' + "0" * 5000 + "}", "invalid_json", id="size-digits"),
        pytest.param('{"content_type": "image/jpeg", "size": -1}', "upload_rejected", id="size-negative"),
        pytest.param('{"content_type": "image/jpeg", "size": 1, "post": 5}', "invalid_field", id="post-number"),
        pytest.param('{"content_type": "image/jpeg", "size": 1, "post": ["a"]}', "invalid_field", id="post-list"),
        pytest.param('{"content_type": "image/jpeg", "size": 1, "post": true}', "invalid_field", id="post-boolean"),
        pytest.param(
            '{"content_type": "image/jpeg", "size": 1, "post": "Not A Slug"}', "upload_rejected", id="post-slug"
        ),
        pytest.param('{"content_type": "image/jpeg", "content_type": 5, "size": 1}', "invalid_json", id="duplicate"),
        pytest.param('{"content_type": "image/jpeg", "size": 1, "owner": "x"}', "invalid_field", id="unknown-field"),
        pytest.param('{"size": 1}', "invalid_field", id="no-content-type"),
        pytest.param('{"content_type": "image/jpeg"}', "invalid_field", id="no-size"),
        pytest.param("{}", "invalid_field", id="empty-object"),
        pytest.param("[]", "invalid_json", id="list"),
        pytest.param('"image/jpeg"', "invalid_json", id="string"),
        pytest.param("5", "invalid_json", id="number"),
        pytest.param("null", "invalid_json", id="null"),
        pytest.param("true", "invalid_json", id="boolean"),
        pytest.param("", "invalid_json", id="empty-body"),
        pytest.param("{", "invalid_json", id="unfinished"),
        pytest.param(DEEP, "invalid_json", id="deep-list"),
        pytest.param('{"a":' * 1000 + "1" + "}" * 1000, "invalid_json", id="deep-object"),
        pytest.param('{"content_type": "image/jpeg", "size": ' + DEEP + "}", "invalid_json", id="deep-size"),
    ],
)
def test_upload_request_of_the_wrong_shape_is_a_400_with_the_api_error_body(editor_client, raw, code):
    # CONTENT_TYPE given as well: the test client leaves it out of a request with no body.
    response = editor_client.post(UPLOAD, raw, content_type="application/json", CONTENT_TYPE="application/json")
    assert_api_error(response, 400, code)
    assert list(Photo.scan()) == []


def test_upload_request_that_is_not_utf8_json(editor_client):
    assert_api_error(editor_client.post(UPLOAD, b"\xff\xfe{}", content_type="application/json"), 400, "invalid_json")
    response = editor_client.post(UPLOAD, '{"content_type": "image/jpeg", "size": 1}', content_type="text/plain")
    assert_api_error(response, 415, "unsupported_media_type")
    assert_api_error(editor_client.post(UPLOAD), 415, "unsupported_media_type")
    response = editor_client.post(UPLOAD, "[" * 9000, content_type="application/json")
    assert_api_error(response, 413, "body_too_large")
    assert list(Photo.scan()) == []


def test_upload_refusals_name_the_field(editor_client):
    error = assert_api_error(ask(editor_client, content_type=["image/jpeg"], size=1), 400)
    assert "content_type" in error["message"]
    error = assert_api_error(ask(editor_client, content_type="image/jpeg", size=True), 400)
    assert "size" in error["message"]
    error = assert_api_error(ask(editor_client, content_type="image/jpeg"), 400)
    assert error["message"] == "size is required."
    error = assert_api_error(ask(editor_client, content_type="image/jpeg", size=1, post="Not A Slug"), 400)
    assert "no post with this address" in error["message"]


def test_upload_and_status_refusals_share_the_shape(editor_client, make_editor, client, aws):
    assert_api_error(editor_client.get(UPLOAD), 405, "method_not_allowed")
    assert_api_error(editor_client.post(STATUS, {"key": "x"}), 405, "method_not_allowed")
    assert_api_error(editor_client.get(STATUS, {"key": "media/originals/none.jpg"}), 404, "not_found")
    client.force_login(make_editor("viewer", "posts.view_post"))
    assert_api_error(ask(client, content_type="image/jpeg", size=10), 403, "forbidden")


def test_a_json_null_post_is_an_upload_for_no_post(editor_client):
    response = ask(editor_client, content_type="image/jpeg", size=10, post=None)
    assert response.status_code == 201
    assert Photo.get(response.json()["key"]).owner is None
