"""The cover's focal point (`posts.focus`), the cards' covers, and the `sizes` that pick their renditions."""

import re
from html import unescape

import pytest
from django.conf import settings

from photos.rendering import BODY_SIZES, CARD_SIZES
from posts import focus, services
from posts.forms import PostForm
from posts.models import Post
from tests.reader_fixtures import publish, ready_photo


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("0.30,0.60", "0.3,0.6"),
        (" 0.3 , 0.6 ", "0.3,0.6"),
        ("0,1", "0,1"),
        ("1.0,0.0", "1,0"),
        ("0.5,0.5", "0.5,0.5"),
        ("0.1234,0.9999", "0.1234,0.9999"),
    ],
)
def test_focal_points_are_read_and_stored_in_one_form(text, stored):
    assert focus.normalise_focus(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "0.5",
        "0.5,0.5,0.5",
        "1.5,0.2",
        "-0.1,0.5",
        "0.5,1.01",
        "a,b",
        "NaN,0.5",
        "inf,0",
        "0.5;0.5",
        "50%,50%",
        "0.12345,0.5",
        "0." + "1" * 30 + ",0.5",
        "1e-1,0.5",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(focus.InvalidFocus):
        focus.parse_focus(text)


@pytest.mark.parametrize(
    ("text", "classes"),
    [("0.30,0.60", "fx30 fy60"), ("0.33,0.67", "fx35 fy65"), ("0,1", "fx0 fy100"), (None, ""), ("bad", "")],
)
def test_cards_get_the_classes_of_the_nearest_step(text, classes):
    assert focus.focus_classes(text) == classes


def test_the_stylesheet_defines_every_focus_class_and_crops_cards_around_it():
    css = (settings.BASE_DIR / "templates" / "site.css").read_text()
    assert focus.focus_css() in css
    assert ".fx35{--fx:35%}" in css and ".fy100{--fy:100%}" in css
    assert "object-fit:cover;object-position:var(--fx,50%) var(--fy,50%)" in css


def test_the_form_refuses_a_bad_focal_point_and_stores_a_good_one(aws):
    data = {"title": "Focus", "slug": "focus", "body": "Hi.", "excerpt": "", "tags": "", "author": ""}
    form = PostForm(data={**data, "cover_focus": "2,0.5"})
    assert not form.is_valid()
    assert "cover_focus" in form.errors and "from 0 to 1" in form.errors["cover_focus"][0]
    form = PostForm(data={**data, "cover_focus": "0.30,0.60"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["cover_focus"] == "0.3,0.6"


def test_the_edit_path_refuses_a_bad_focal_point_too(aws):
    with pytest.raises(services.InvalidPost) as raised:
        services.create_post(slug="focus", title="Focus", cover_focus="0.5")
    assert raised.value.field == "cover_focus"
    services.create_post(slug="focus", title="Focus", cover_focus=" 0.25 , 0.75 ")
    assert Post.get("focus").cover_focus == "0.25,0.75"


def _card(html, slug):
    match = re.search(rf'<li class="card">\s*<article aria-labelledby="post-{slug}">(.*?)</article>', html, re.S)
    assert match, slug
    return match.group(1)


def test_cards_show_the_cover_cropped_at_its_focal_point(aws, client):
    cover = ready_photo("cover")
    publish("with-cover", tags=["photos"], cover_image=cover.key, cover_alt="A red kite", cover_focus="0.30,0.60")
    publish("without", tags=["photos"], days_ago=2)
    for path in ("/", "/tags/photos/"):
        html = client.get(path).content.decode()
        card = _card(html, "with-cover")
        assert card.lstrip().startswith('<div class="card-cover fx30 fy60"><picture><source type="image/avif"')
        img = unescape(re.search(r"<img [^>]*>", card).group(0))
        assert 'alt="A red kite"' in img and 'loading="lazy"' in img and "fetchpriority" not in img
        assert f'sizes="{CARD_SIZES}"' in img and "320w" in img
        assert "card-cover" not in _card(html, "without")
        assert "/media/originals/" not in card


def test_the_post_page_cover_is_the_eager_high_priority_image_sized_for_the_text_column(aws, client):
    cover = ready_photo("cover")
    publish("with-cover", cover_image=cover.key, cover_alt="A red kite")
    html = client.get("/posts/with-cover/").content.decode()
    figure = re.search(r'<figure class="cover">(.*?)</figure>', html, re.S).group(1)
    img = re.search(r"<img [^>]*>", figure).group(0)
    assert 'fetchpriority="high"' in img and 'loading="eager"' in img
    assert f'sizes="{BODY_SIZES}"' in img
    assert html.count('fetchpriority="high"') == 1


def _slot(sizes, viewport):
    """The slot width a browser takes from `sizes` at a viewport width, in CSS px (1rem = 16px)."""
    for candidate in sizes.split(","):
        candidate = candidate.strip()
        condition = re.match(r"\(min-width: ([\d.]+)rem\) (.+)", candidate)
        if condition and viewport < float(condition.group(1)) * 16:
            continue
        length = condition.group(2) if condition else candidate
        if length.startswith("calc(100vw - "):
            return viewport - float(length[len("calc(100vw - ") : -len("rem)")]) * 16
        return float(length.removesuffix("rem")) * 16
    raise AssertionError(sizes)


def _chosen(widths, sizes, viewport, dpr):
    """The rendition width a browser picks: the smallest at least slot x DPR (or the widest)."""
    needed = _slot(sizes, viewport) * dpr
    return min((width for width in widths if width >= needed), default=max(widths))


def test_the_sizes_match_the_layout_and_phones_get_no_larger_rendition_than_needed():
    widths = [320, 640, 960, 1280, 1920]
    # The text column: the viewport less 1rem each side, at most 42rem (a 44rem border-box wrap).
    assert _slot(BODY_SIZES, 412) == 380 and _slot(BODY_SIZES, 704) == 672 and _slot(BODY_SIZES, 1400) == 672
    assert _chosen(widths, BODY_SIZES, 412, 1.75) == 960  # Lighthouse's phone: 665 px needed
    assert _chosen(widths, BODY_SIZES, 390, 3) == 1280  # 1074 px needed
    assert _chosen(widths, BODY_SIZES, 1400, 1) == 960  # 672 px needed
    # A card's cover is 7rem wide, 11rem from 44rem up (templates/site.css).
    css = (settings.BASE_DIR / "templates" / "site.css").read_text()
    assert ".card-cover{float:right;width:7rem;" in css and "@media (min-width:44rem){.card-cover{width:11rem}}" in css
    assert _chosen(widths, CARD_SIZES, 412, 1.75) == 320
    assert _chosen(widths, CARD_SIZES, 1400, 2) == 640
