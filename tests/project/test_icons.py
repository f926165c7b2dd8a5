"""The site's icons: an SVG favicon and a PNG touch icon as static files, and /favicon.ico answered."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from myblog import public

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


def test_hashed_names_when_collected(settings, tmp_path):
    """With the manifest storage the deploy uses, the icons' URLs carry their content hash."""
    from django.core.management import call_command
    from django.template import engines

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    html = engines[public.ENGINE].from_string("{% load static %}{% static 'myblog/favicon.svg' %}").render({})
    assert re.fullmatch(r"/static/myblog/favicon\.[0-9a-f]{12}\.svg", html), html


def test_the_content_security_policy_allows_the_static_domain(settings):
    settings.STATIC_URL = "https://static.example.net/static/"
    settings.MEDIA_URL = "https://media.example.net/media/"
    public.content_security_policy.cache_clear()
    try:
        policy = dict(part.split(" ", 1) for part in public.content_security_policy().split("; "))
        assert policy["img-src"] == "'self' https://media.example.net https://static.example.net"
    finally:
        public.content_security_policy.cache_clear()
