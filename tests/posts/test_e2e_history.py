"""Two editors on one post in real browsers, against the real local stack.

The second save is refused and shows, word by word, what differs from the
version saved meanwhile; the editor merges by hand and saves. Then the post
is renamed from its change form, and its old address takes readers to the
new one.
"""

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.browser]


def logged_in(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(stack.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", stack.username)
    page.fill("#id_password", stack.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    return page


def test_two_editors_merge_a_refused_save_then_rename(local_stack, browser):
    site = local_stack.url
    ann, bob = logged_in(browser, local_stack), logged_in(browser, local_stack)

    # Ann writes and publishes a post.
    ann.goto(site + "/admin/posts/post/add/")
    ann.fill("#id_title", "Two hands on one text")
    ann.fill("#id_slug", "two-hands")
    ann.fill("#id_body", "The river was cold and quiet.")
    ann.click("input[name=_publish]")
    ann.wait_for_selector(".messagelist .success")
    change = site + "/admin/posts/post/two-hands/change/"

    # Both open it; Ann saves first.
    ann.goto(change)
    bob.goto(change)
    ann.fill("#id_body", "The river was cold and loud.")
    ann.click("input[name=_save]")
    ann.wait_for_selector(".messagelist .success")

    # Bob's save is refused: his text stays, with the diff against Ann's.
    bob.fill("#id_body", "The lake was cold and quiet.")
    bob.click("input[name=_save]")
    bob.wait_for_selector("#stale-diff")
    assert "Someone else saved this post" in bob.inner_text("#content-main")
    diff = bob.inner_html("#stale-diff [data-field=body]")
    assert "<del>river</del><ins>lake</ins>" in diff and "<del>loud</del><ins>quiet</ins>" in diff
    assert bob.input_value("#id_body") == "The lake was cold and quiet."

    # He merges by hand and saves: it goes through.
    bob.fill("#id_body", "The lake was cold and loud.")
    bob.click("input[name=_save]")
    bob.wait_for_selector(".messagelist .success")
    assert bob.locator("#stale-diff").count() == 0

    # Ann renames it from the change form.
    ann.goto(change)
    ann.click("a.post-rename-link")
    ann.fill("#id_new_slug", "two-hands-one-lake")
    ann.click("#rename-form input[type=submit]")
    ann.wait_for_selector(".messagelist .success")
    assert ann.url.endswith("/admin/posts/post/two-hands-one-lake/change/")
    assert "/posts/two-hands/ redirects there" in ann.inner_text(".messagelist")

    # Readers following the old address land on the new one.
    ann.goto(site + "/posts/two-hands/")
    assert ann.url.endswith("/posts/two-hands-one-lake/")
    assert "The lake was cold and loud." in ann.inner_text("article")
