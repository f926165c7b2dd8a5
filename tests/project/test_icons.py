"""The site's icons: an SVG favicon and a PNG touch icon as static files, and /favicon.ico answered."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from myblog import icons, public

pytestmark = pytest.mark.usefixtures("no_sql")


def test_every_page_links_the_icons(aws, client):
    for path in ("/", "/subscribe/", "/posts/missing/"):
        html = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/myblog/favicon.svg" type="image/svg+xml">' in html
        assert '<link rel="apple-touch-icon" href="/static/myblog/apple-touch-icon.png">' in html


def test_the_icons_are_static_files():
    svg = Path(finders.find("myblog/favicon.svg")).read_text()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "prefers-color-scheme:dark" in svg
    with Image.open(finders.find("myblog/apple-touch-icon.png")) as touch:
        assert touch.format == "PNG" and touch.size == (180, 180)
        assert touch.mode == "RGB"  # opaque: iOS fills a transparent touch icon with black


def test_favicon_ico_is_the_icon_not_a_404(aws, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (180, 180)
    assert response["Cache-Control"].startswith("public, max-age=3600, s-maxage=86400")
    assert client.get("/favicon.ico", headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_the_links_are_the_names_collectstatic_gives_the_icons(settings, tmp_path):
    """With the manifest storage deployed stages use, the icons' URLs are their hashed names, read from no manifest."""
    import json

    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.MYBLOG_STATIC_ON_S3 = True
    icons.static_url.cache_clear()
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
        manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
        for name in (icons.ICON, icons.TOUCH_ICON):
            assert icons.static_url(name) == "/static/" + manifest[name]
            assert re.fullmatch(r"myblog/[a-z-]+\.[0-9a-f]{12}\.(svg|png)", manifest[name])
            assert (tmp_path / manifest[name]).exists()
    finally:
        icons.static_url.cache_clear()


def test_the_content_security_policy_allows_the_static_domain(settings):
    settings.STATIC_URL = "https://static.example.net/static/"
    settings.MEDIA_URL = "https://media.example.net/media/"
    public.content_security_policy.cache_clear()
    try:
        policy = dict(part.split(" ", 1) for part in public.content_security_policy().split("; "))
        assert policy["img-src"] == "'self' https://media.example.net https://static.example.net"
    finally:
        public.content_security_policy.cache_clear()
