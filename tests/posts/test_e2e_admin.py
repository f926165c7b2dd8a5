"""An editor's whole job in a real browser, against the real local stack.

Headless Chromium (Debian's `chromium`, driven by Playwright) logs in to the
admin, writes a post with a live preview (the post page itself, in a frame),
drops a photo on the form (it goes from the browser straight to the bucket
with a presigned POST), sees it from its private original (a presigned S3
URL) until its thumbnails replace it, inserts it and sets it as the cover,
previews the email subscribers will get, publishes with "Email to
subscribers" ticked and sees the post's send, and finds the post on the
public site, its photos shown from their renditions only.
"""

import io

import pytest
from PIL import Image

pytestmark = [pytest.mark.stack, pytest.mark.browser]


def photo_bytes():
    """A real photo-sized JPEG, made here."""
    image = Image.new("RGB", (1600, 1200))
    for x in range(0, 1600, 100):
        image.paste((x % 255, 120, 255 - x % 255), (x, 0, x + 100, 1200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return list(buffer.getvalue())


DROP_FILE = """
([bytes, name]) => {
  const file = new File([new Uint8Array(bytes)], name, {type: "image/jpeg"});
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const zone = document.getElementById("photo-drop");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}
"""


THUMBNAIL_SHOWN = """
key => {
  const card = [...document.querySelectorAll('#photo-list .photo-card')].find(c => c.dataset.key === key);
  const img = card && card.querySelector('img');
  return card.dataset.status === 'ready' && img.src.includes('/media/renditions/')
    && img.complete && img.naturalWidth > 0;
}
"""

PUBLIC_PHOTOS_SHOWN = """
id => {
  const shown = [...document.querySelectorAll('figure.cover img, .prose img')];
  return shown.length === 2 && shown.every(img => img.complete && img.naturalWidth > 0
    && img.currentSrc.includes('/media/renditions/') && img.currentSrc.includes(id));
}
"""


def test_editor_writes_uploads_publishes_and_reads_it_on_the_site(local_stack, browser_page):
    page = browser_page
    site = local_stack.url
    # Images loaded from an original: only the admin's presigned S3 URLs may reach one.
    originals_loaded = []

    def record(response):
        if "/media/originals/" in response.url and response.request.resource_type == "image" and response.ok:
            originals_loaded.append(response.url)

    page.on("response", record)

    # Log in with the stack's editor account.
    page.goto(site + "/admin/login/?next=/admin/")
    page.fill("#id_username", local_stack.username)
    page.fill("#id_password", local_stack.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    assert page.locator('a[href="/admin/posts/post/"]').count() >= 1

    # Write a post; the slug follows the title, the preview follows the text.
    page.goto(site + "/admin/posts/post/add/")
    page.fill("#id_title", "A kite over the ridge")
    assert page.input_value("#id_slug") == "a-kite-over-the-ridge"
    page.fill("#id_body", "We walked up at dawn and saw **a red kite**.\n\n")
    preview = page.frame_locator("#post-preview")  # the post page itself, in its own document
    preview.locator("article.post .prose strong:has-text('a red kite')").wait_for()
    page.fill("#id_tags", "birds, walks")

    # Drop a photo on the form: it goes straight to the bucket, with progress.
    page.evaluate(DROP_FILE, [photo_bytes(), "kite.jpg"])
    card = page.locator("#photo-list .photo-card").last
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('#photo-list .photo-card')].pop();"
        " return c && c.dataset.key && !c.querySelector('progress'); }"
    )
    assert page.locator("#photo-error").is_hidden(), page.inner_text("#photo-error")
    key = card.get_attribute("data-key")
    assert key.startswith("media/originals/") and key.endswith(".jpg")
    # The admin shows the photo: its original (private: a presigned S3 URL,
    # from the S3 endpoint) until the event pump has made its thumbnails...
    page.wait_for_function(
        "() => { const img = [...document.querySelectorAll('#photo-list .photo-card img')].pop();"
        " return img && img.complete && img.naturalWidth > 0 && !img.src.startsWith('blob:'); }"
    )
    assert any(key in url and "X-Amz-Signature=" in url for url in originals_loaded), originals_loaded
    assert not any(url.startswith(local_stack.edge_url) for url in originals_loaded)
    # ...which then replace it.
    page.wait_for_function(THUMBNAIL_SHOWN, arg=key, timeout=90_000)
    assert page.inner_text(f'#photo-list .photo-card[data-key="{key}"] .photo-status') == "ready"

    # Insert it into the text and make it the cover.
    page.click("#id_body")
    page.keyboard.press("Control+End")
    card.locator(".photo-insert").click()
    # Both buttons ask for the photo's description first.
    page.fill("#photo-alt-text", "A red kite")
    page.click("#photo-alt-ok")
    page.wait_for_function("key => document.getElementById('id_body').value.includes('(photo:' + key + ')')", arg=key)
    card.locator(".photo-cover").click()
    page.fill("#photo-alt-text", "A red kite above the ridge")
    page.click("#photo-alt-ok")
    page.wait_for_function("key => document.getElementById('id_cover_image').value === key", arg=key)
    # The cover fieldset shows the new cover at once (its thumbnail), and so does the preview.
    assert page.locator("#cover-photo .cover-photo-current img").is_visible()
    assert "/media/renditions/" in page.get_attribute("#cover-photo .cover-photo-current img", "src")
    assert page.locator("#cover-photo .cover-photo-remove").is_visible()
    preview.locator("article.post figure.cover img").wait_for()
    page.fill("#id_cover_alt", "A red kite above the ridge")
    preview.locator("article.post .prose img").first.wait_for()

    # The email subscribers will get, from the form's unsaved content.
    page.click("#email-preview-button")
    email_frame = page.frame_locator("#email-preview")
    email_frame.locator("h1:has-text('A kite over the ridge')").wait_for()
    assert "Subject: A kite over the ridge" in page.inner_text("#email-subject")
    assert (
        email_frame.locator("a:has-text('Read on the site')")
        .get_attribute("href")
        .endswith("/posts/a-kite-over-the-ridge/")
    )

    # A post never published is emailed to subscribers by default; keep the box ticked.
    assert page.is_checked("#id_email_subscribers")
    page.check("#id_email_subscribers")

    # Publish now.
    page.click("input[name=_publish]")
    page.wait_for_selector(".messagelist .success")
    assert "was published" in page.inner_text(".messagelist")
    assert page.locator('a.viewsitelink[href="/posts/a-kite-over-the-ridge/"]').count() == 1

    # The post's page shows its send, with its progress; the box is no longer offered.
    page.wait_for_selector("#send-panel progress.send-progress")
    assert page.inner_text("#send-panel [data-field=state_label]") in ("Queued", "Sending", "Sent")
    assert page.is_disabled("#id_email_subscribers") and not page.is_checked("#id_email_subscribers")

    # The change list shows it, published.
    page.goto(site + "/admin/posts/post/?status=published")
    assert page.locator("#result_list a:has-text('A kite over the ridge')").count() == 1

    # Readers see it, with the photo as cover and in the text: from its
    # renditions (on the edge, made before it was published), never from the original.
    photo_id = key.rsplit("/", 1)[-1].split(".")[0]
    page.goto(site + "/posts/a-kite-over-the-ridge/")
    assert page.locator("h1:has-text('A kite over the ridge')").count() == 1
    assert page.locator("figure.cover img[alt='A red kite above the ridge']").count() == 1
    assert page.locator("strong:has-text('a red kite')").count() == 1
    page.wait_for_function(PUBLIC_PHOTOS_SHOWN, arg=photo_id)
    assert page.locator("picture source[type='image/webp']").count() == 2
    assert "originals/" not in page.content()
    assert page.get_attribute("meta[property='og:image']", "content").startswith(
        local_stack.edge_url + "/media/renditions/"
    )
    page.goto(site + "/")
    assert page.locator('a[href="/posts/a-kite-over-the-ridge/"]').count() >= 1
