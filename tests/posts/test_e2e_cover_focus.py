"""The cover's focal point in a real browser, against the real local stack.

The demo posts are saved before their photos' upload events are handled, so
their covers reach the listings when the thumbnail handler renders them
again (under the function's role, through the photo-uses table). An editor
then clicks the cover in the post form: the focal point is stored, and the
home page's card crops the cover around it.
"""

import re
import time

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.browser]

SLUG = "thumbnails-without-servers"  # a demo post with a cover

CARD_COVER_SHOWN = """
slug => {
  const link = document.querySelector(`.card h2 a[href="/posts/${slug}/"]`);
  const img = link && link.closest('article').querySelector('.card-cover img');
  return !!img && img.getAttribute('src').includes('/media/renditions/');
}
"""


def wait_for_card_cover(page, url, timeout=90):
    """Reload `url` until the demo post's card shows its cover, loaded from a rendition."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        page.reload()  # revalidated: the browser keeps pages for a minute (max-age=60)
        if page.evaluate(CARD_COVER_SHOWN, SLUG):
            img = page.locator(f'.card:has(a[href="/posts/{SLUG}/"]) .card-cover img')
            img.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
            assert "/media/renditions/" in img.evaluate("img => img.currentSrc")
            return
        assert time.monotonic() < deadline, "the card never showed its cover"
        page.wait_for_timeout(2000)


def test_the_editor_sets_the_cover_focus_and_the_card_crops_around_it(local_stack, browser_page):
    page = browser_page
    site = local_stack.url

    # The demo covers reach the cards once their renditions are made, without any save.
    wait_for_card_cover(page, site + "/")

    page.goto(site + "/admin/login/?next=/admin/")
    page.fill("#id_username", local_stack.username)
    page.fill("#id_password", local_stack.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")

    page.goto(site + f"/admin/posts/post/{SLUG}/change/")
    image = page.locator("#cover-photo .cover-photo-image")
    image.wait_for()
    page.wait_for_function(
        "() => { const img = document.querySelector('#cover-photo .cover-photo-image');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    assert page.input_value("#id_cover_focus") == ""
    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    value = page.input_value("#id_cover_focus")
    x, y = (float(part) for part in value.split(","))
    assert re.fullmatch(r"\d\.\d\d,\d\.\d\d", value) and abs(x - 0.3) <= 0.02 and abs(y - 0.6) <= 0.02
    assert page.locator("#cover-photo .cover-focus-marker").is_visible()
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    # A bad value typed by hand is a form error, nothing is saved.
    page.goto(site + f"/admin/posts/post/{SLUG}/change/")
    assert page.input_value("#id_cover_focus") == f"{x:g},{y:g}"
    page.fill("#id_cover_focus", "2,0.5")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "from 0 to 1" in page.inner_text(".field-cover_focus")

    # The card crops the cover around the point (classes in 5 % steps; no inline styles under the CSP).
    wait_for_card_cover(page, site + "/", timeout=30)
    card_cover = page.locator(f'.card:has(a[href="/posts/{SLUG}/"]) .card-cover')
    assert card_cover.get_attribute("class") == "card-cover fx30 fy60"
    position = card_cover.locator("img").evaluate("img => getComputedStyle(img).objectPosition")
    assert position == "30% 60%"
    fit = card_cover.locator("img").evaluate("img => getComputedStyle(img).objectFit")
    assert fit == "cover"
