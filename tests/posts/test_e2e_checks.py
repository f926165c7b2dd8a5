"""Describing photos, the content checks and the word search, in a real browser against the local stack.

An editor inserts a photo (the card asks for its description; a second
time it is marked decorative), sets it as the cover (asked again), sees
the Checks panel warn about a skipped heading and a "click here" link as
they type and after saving, and finds the post in the change list by a
word in the middle of its title.
"""

import io

import pytest
from PIL import Image

from tests.posts.test_e2e_admin import DROP_FILE, THUMBNAIL_SHOWN

pytestmark = [pytest.mark.stack, pytest.mark.browser]


def photo_bytes():
    image = Image.new("RGB", (800, 1200), (30, 90, 160))  # portrait: the card shows it whole
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return list(buffer.getvalue())


def test_describe_photos_see_the_checks_and_find_the_post_by_a_word(local_stack, browser_page):
    page = browser_page
    site = local_stack.url
    page.goto(site + "/admin/login/?next=/admin/")
    page.fill("#id_username", local_stack.username)
    page.fill("#id_password", local_stack.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")

    page.goto(site + "/admin/posts/post/add/")
    page.fill("#id_title", "Trams of the Lisbon hills")
    page.fill("#id_body", "Intro.\n\n#### Too deep\n\nTimetables: [click here](https://example.com).\n\n")
    # The checks follow the typing.
    page.wait_for_selector('#post-checks li[data-code="heading-skip"]')
    page.wait_for_selector('#post-checks li[data-code="link-text"]')
    assert "click here" in page.inner_text("#post-checks")

    page.evaluate(DROP_FILE, [photo_bytes(), "tram.jpg"])
    card = page.locator("#photo-list .photo-card").last
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('#photo-list .photo-card')].pop();"
        " return c && c.dataset.key && !c.querySelector('progress'); }"
    )
    key = card.get_attribute("data-key")
    page.wait_for_function(THUMBNAIL_SHOWN, arg=key, timeout=90_000)
    assert card.locator(".photo-name").inner_text() == "tram.jpg"
    assert "bytes" in card.locator(".photo-size").inner_text()
    assert page.evaluate("k => getComputedStyle(document.querySelector('#photo-list .photo-card img')).objectFit") == (
        "contain"
    )

    # Insert: the dialog asks for a description; an empty one is refused.
    page.click("#id_body")
    page.keyboard.press("Control+End")
    card.locator(".photo-insert").click()
    assert page.locator("dialog.photo-alt-dialog").is_visible()
    page.click("#photo-alt-ok")
    assert page.locator("#photo-alt-error").is_visible()
    page.fill("#photo-alt-text", "A yellow tram climbing a hill")
    page.click("#photo-alt-ok")
    inserted = (
        "key => document.getElementById('id_body').value.includes('![A yellow tram climbing a hill](photo:' + key)"
    )
    page.wait_for_function(inserted, arg=key)
    # Again, decorative: empty alt text.
    page.keyboard.press("Control+End")
    card.locator(".photo-insert").click()
    page.check("#photo-alt-decorative")
    page.click("#photo-alt-ok")
    page.wait_for_function(
        "key => document.getElementById('id_body').value.includes('![](photo:' + key + ')')", arg=key
    )

    # Set as cover: asked too; the description goes in the cover's field.
    card.locator(".photo-cover").click()
    page.fill("#photo-alt-text", "Tram 28 at the top")
    page.click("#photo-alt-ok")
    page.wait_for_function("key => document.getElementById('id_cover_image').value === key", arg=key)
    assert page.input_value("#id_cover_alt") == "Tram 28 at the top"

    # Saved, the form shows the checks of what was saved.
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert page.locator('#post-checks li[data-code="heading-skip"]').count() == 1
    assert page.locator('#post-checks li[data-code="link-text"]').count() == 1
    assert page.locator('#post-checks li[data-code="cover-alt"]').count() == 0

    # The change list finds it by a word in the middle of its title, with its cover.
    page.goto(site + "/admin/posts/post/")
    page.fill("#searchbar", "lisbon")
    page.click("#changelist-search input[type=submit]")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Trams of the Lisbon hills" in rows.first.inner_text()
    assert "/media/renditions/" in rows.first.locator("img.post-list-cover").get_attribute("src")
    assert "1 post matches" in page.inner_text(".paginator")
