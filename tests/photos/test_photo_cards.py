"""Photo cards show the file's name and size and the photo's status, a failure with its reason."""

import json

from photos import uploads
from photos.admin import photo_info, size_label
from photos.models import Photo
from photos.status import PHOTO_FAILED
from posts import services

UPLOAD = "/admin/posts/post/photos/upload/"


def ask(client, **data):
    return client.post(UPLOAD, json.dumps(data), content_type="application/json")


def test_the_upload_records_the_files_name_and_size(editor_client):
    response = ask(editor_client, content_type="image/jpeg", size=2_411_724, name="C:\\Photos\\Lisbon tram.jpg")
    assert response.status_code == 201
    info = response.json()["photo"]
    assert (info["filename"], info["size"]) == ("Lisbon tram.jpg", 2_411_724)
    assert info["size_label"] == "2.3\xa0MB (2,411,724 bytes)"
    photo = Photo.get(response.json()["key"])
    assert (photo.filename, photo.size) == ("Lisbon tram.jpg", 2_411_724)


def test_a_name_is_optional_and_must_be_a_string(editor_client):
    response = ask(editor_client, content_type="image/png", size=10)
    assert response.status_code == 201
    # Without a recorded name the card names the stored file.
    assert response.json()["photo"]["filename"] == response.json()["key"].rsplit("/", 1)[-1]
    assert ask(editor_client, content_type="image/png", size=10, name=12).status_code == 400


def test_file_names_are_cleaned_and_cut():
    assert uploads.clean_filename("../../etc/pass\x00wd") == "passwd"
    long = uploads.clean_filename("a" * 300 + ".jpeg")
    assert len(long) <= uploads.MAX_FILENAME_LENGTH and long.endswith("….jpeg")
    assert uploads.clean_filename("  ") is None and uploads.clean_filename(None) is None


def test_size_labels():
    assert size_label(None) == "" and size_label(0) == ""
    assert size_label(512) == "512\xa0bytes (512 bytes)"


def test_the_card_shows_name_size_and_a_failures_reason(editor_client):
    key = ask(editor_client, content_type="image/jpeg", size=1500, name="broken.jpg", post="card-post").json()["key"]
    Photo.get(key).update(actions=[Photo.status.set(PHOTO_FAILED), Photo.error.set("the file is truncated")])
    services.create_post(slug="card-post", title="Cards")
    page = editor_client.get("/admin/posts/post/card-post/change/").content.decode()
    assert f'<li class="photo-card" data-key="{key}" data-status="failed"' in page
    assert '<span class="photo-name" title="broken.jpg">broken.jpg</span>' in page
    assert "1.5\xa0KB (1,500 bytes)" in page
    assert "failed: the file is truncated" in page
    assert photo_info(Photo.get(key))["error"] == "the file is truncated"
