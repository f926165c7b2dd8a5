"""The site's colours, light and dark (prefers-color-scheme): every pair the pages use meets WCAG 2.2 AA."""

import re

import pytest
from django.conf import settings

CSS = (settings.BASE_DIR / "templates" / "site.css").read_text()
DARK = re.compile(r"@media \(prefers-color-scheme:dark\)\{:root\{([^}]*)\}\}")

# (text, background) pairs the stylesheet puts together, and the contrast each needs:
# 4.5:1 for text, 3:1 for what only has to be seen (focus ring, form field border).
PAIRS = [
    ("fg", "bg", 4.5),  # body text
    ("muted", "bg", 4.5),  # dates, hints, footer
    ("accent", "bg", 4.5),  # links
    ("fg", "card", 4.5),  # code blocks, the subscribe box
    ("muted", "card", 4.5),
    ("accent", "card", 4.5),  # links in the subscribe box
    ("accent-fg", "accent", 4.5),  # buttons, the skip link
    ("err", "bg", 4.5),
    ("err", "card", 4.5),
    ("ok", "card", 3.0),  # the notice's border
    ("focus", "bg", 3.0),
    ("muted", "bg", 3.0),  # the email field's border
]


def _colours(block):
    found = re.findall(r"--([\w-]+):#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", block)
    return {name: "#" + (value if len(value) == 6 else "".join(c * 2 for c in value)).lower() for name, value in found}


def _luminance(colour):
    channels = [int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first, second):
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _schemes():
    light = _colours(CSS[: CSS.index("@media")])
    return {"light": light, "dark": {**light, **_colours(DARK.search(CSS).group(1))}}


def test_contrast_formula():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_the_stylesheet_has_a_dark_scheme_for_every_colour():
    assert "color-scheme:light dark" in CSS
    light, dark = _colours(CSS[: CSS.index("@media")]), _colours(DARK.search(CSS).group(1))
    assert set(dark) == set(light)
    assert all(dark[name] != light[name] for name in light)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("text", "background", "needed"), PAIRS)
def test_every_pair_meets_wcag_aa(scheme, text, background, needed):
    colours = _schemes()[scheme]
    assert contrast(colours[text], colours[background]) >= needed, (scheme, text, background)


def test_the_browser_bar_follows_the_scheme(aws, client):
    html = client.get("/").content.decode()
    schemes = _schemes()
    for scheme in ("light", "dark"):
        tag = f'<meta name="theme-color" content="{schemes[scheme]["bg" if scheme == "dark" else "accent"]}"'
        assert f'{tag} media="(prefers-color-scheme: {scheme})">' in html
