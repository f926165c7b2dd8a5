"""The editor's desk in a real browser, against the real local stack.

Two editors (the stack's own and a second one made through the admin),
each in their own browser context in New York's time zone: writing beside
the preview at 1440 px and switching it to a phone's width, autosave and its
offer after the page was closed, the warning on leaving, who else has the
post open, "Go live at" in the editor's zone, and Ctrl+S.
"""

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.browser]

ZONE = "America/New_York"
SECOND = ("second-editor", "desk-Second-pass-9931")


def log_in(context, site, username, password):
    page = context.new_page()
    page.goto(site + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    return page


def make_second_editor(page, site):
    """The stack's administrator adds a second staff user with every permission."""
    page.goto(site + "/admin/auth/user/add/")
    page.fill("#id_username", SECOND[0])
    page.fill("#id_password1", SECOND[1])
    page.fill("#id_password2", SECOND[1])
    page.click("input[name=_continue]")
    page.wait_for_selector("#id_is_staff")
    page.fill("#id_first_name", "Sam")
    page.fill("#id_last_name", "Second")
    page.check("#id_is_staff")
    page.check("#id_is_superuser")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


def test_the_editors_desk(local_stack, browser):
    site = local_stack.url
    first = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=ZONE)
    second = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id=ZONE)
    try:
        page = log_in(first, site, local_stack.username, local_stack.password)
        make_second_editor(page, site)

        # Side by side at 1440 px: the body on the left, the preview on the right, both in view.
        page.goto(site + "/admin/posts/post/add/")
        page.fill("#id_title", "Desk notes")
        page.fill("#id_body", "First line of the **desk**.\n\n" + "More text.\n\n" * 80)
        page.frame_locator("#post-preview").locator(".prose strong:has-text('desk')").wait_for()
        body = page.locator("#id_body").bounding_box()
        stage = page.locator("#desk-stage").bounding_box()
        assert stage["x"] >= body["x"] + body["width"] - 1  # beside it...
        assert stage["y"] < body["y"] + body["height"] and body["y"] < stage["y"] + stage["height"]  # ...level with it
        assert body["height"] < 900 and stage["height"] < 900  # each pane fits the window
        # The save buttons stay in reach.
        assert page.locator("#post_form .submit-row").bounding_box()["y"] < 900
        # Desktop width scaled down to fit, then the phone's width at full size.
        assert float(page.get_attribute("#post-preview", "data-scale")) < 1
        page.click("#desk-preview-tools button[data-width='390']")
        assert page.evaluate("document.getElementById('post-preview').style.width") == "390px"
        assert page.get_attribute("#post-preview", "data-scale") == "1.000"
        # Scrolling the text scrolls the preview.
        page.evaluate("const b = document.getElementById('id_body'); b.scrollTop = b.scrollHeight")
        page.wait_for_function("document.getElementById('desk-stage').scrollTop > 0")

        # Go live at: typed in New York time, the UTC time beside it.
        page.fill("#id_publish_at", "2031-01-15T15:54")
        assert page.inner_text("#desk-publish-at-utc") == f"{ZONE} · 2031-01-15 20:54 UTC"
        assert page.input_value("#id_editor_tz") == ZONE

        # Ctrl+S saves the draft.
        page.locator("#id_excerpt").click()
        page.keyboard.press("Control+s")
        page.wait_for_url("**/admin/posts/post/desk-notes/change/")
        assert "was saved as a draft" in page.inner_text(".messagelist")
        assert page.input_value("#id_publish_at") == ""  # a draft has no date until it is scheduled

        # Schedule: the message names the zone, with one full stop.
        page.fill("#id_publish_at", "2031-01-15T15:54")
        page.click("input[name=_schedule]")
        page.wait_for_selector(".messagelist .success")
        message = page.inner_text(".messagelist .success")
        assert message.endswith("scheduled to go live on 15 January 2031, 15:54 America/New_York (20:54 UTC)."), (
            message
        )
        assert page.input_value("#id_publish_at") == "2031-01-15T15:54"

        # Autosave, then close the page without saving.
        change = site + "/admin/posts/post/desk-notes/change/"
        page.click("#id_title")
        page.fill("#id_title", "Desk notes, revised")
        page.wait_for_function("document.getElementById('post-desk').dataset.autosavedAt")
        # Leaving with unsaved changes asks first.
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
        # (waited for as an event: a loaded machine can take longer than any fixed pause)
        with page.expect_event("dialog", timeout=15_000):
            page.close(run_before_unload=True)
        assert dialogs == ["beforeunload"]
        page.close()

        # Reopened: the offer, and restoring fills the form.
        page = first.new_page()
        page.goto(change)
        page.wait_for_selector("#desk-autosave-offer:not([hidden])")
        assert "You have unsaved changes from" in page.inner_text("#desk-autosave-offer")
        assert page.input_value("#id_title") == "Desk notes"
        page.click("#desk-autosave-offer .desk-restore")
        assert page.input_value("#id_title") == "Desk notes, revised"
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        assert page.input_value("#id_title") == "Desk notes, revised"
        assert page.locator("#desk-autosave-offer").is_hidden()  # the save used up the slot

        # Presence: the second editor opens the post (on a phone) and sees the first.
        other = log_in(second, site, *SECOND)
        other.goto(change)
        other.wait_for_selector("#desk-presence:not([hidden])")
        assert f"{local_stack.username} is also editing this post (since" in other.inner_text("#desk-presence")
        # On a phone the text takes most of the screen.
        height = other.locator("#id_body").bounding_box()["height"]
        assert height > 0.6 * 844, other.evaluate(
            "() => { const b = document.getElementById('id_body'); const s = getComputedStyle(b);"
            " return [s.height, s.flex, b.parentElement.className, innerWidth, innerHeight]; }"
        )
        page.evaluate("document.getElementById('desk-presence').dispatchEvent(new Event('desk:heartbeat'))")
        page.wait_for_function("document.getElementById('desk-presence').innerText.includes('Sam Second')")
        # The second editor leaves: gone at the first's next heartbeat.
        other.goto(site + "/admin/posts/post/")
        other.wait_for_selector("#changelist")
        page.evaluate("document.getElementById('desk-presence').dispatchEvent(new Event('desk:heartbeat'))")
        page.wait_for_selector("#desk-presence[hidden]", state="attached")
    finally:
        first.close()
        second.close()
