"""Comparing versions in the post admin: a refused save's diff, two revisions, restore and rename (moto)."""

from posts.models import Post
from tests.posts.test_admin_posts import change_url, form_data, make_post


def page(response):
    return response.content.decode()


def section(html, element_id):
    """The HTML of the element with `element_id` up to its fieldset's end."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</fieldset>", start)]


# -- a refused save shows what differs --------------------------------------------------------


def test_a_refused_save_shows_the_diff_and_saving_again_goes_through(editor_client):
    post = make_post("shared", body="The quick brown fox jumps.", excerpt="Same excerpt", tags=["python"])
    opened = editor_client.get(change_url("shared")).context["form"]["_version"].value()
    first = form_data(
        title="Shared", body="The quick red fox jumps.", excerpt="Same excerpt", tags="python", _version=str(opened)
    )
    assert editor_client.post(change_url("shared"), first).status_code == 302
    mine = form_data(
        title="Shared <b>story</b>",
        body="The quick brown fox leaps.",
        excerpt="Same excerpt",
        tags="python, aws",
        _version=str(opened),
    )
    response = editor_client.post(change_url("shared"), mine)
    assert response.status_code == 200
    html = page(response)
    assert "Someone else saved this post after you opened it" in html
    diff = section(html, "stale-diff")
    # Saved "red ... jumps" against mine "brown ... leaps", word by word; unchanged fields are not listed.
    assert "<del>red</del><ins>brown</ins>" in diff and "<del>jumps</del><ins>leaps</ins>" in diff
    assert "<ins>, aws</ins>" in diff
    assert "&lt;b&gt;story&lt;/b&gt;" in diff and "<b>story</b>" not in diff  # escaped
    assert 'data-field="excerpt"' not in diff
    # The editor's text is kept, and the form now carries the saved version.
    form = response.context["form"]
    assert form["body"].value() == "The quick brown fox leaps."
    current = Post.get("shared")
    assert current.body == "The quick red fox jumps."
    assert int(form["_version"].value()) == current.version != post.version
    # Merged by hand, the save goes through.
    merged = dict(mine, body="The quick red fox leaps.", _version=form["_version"].value())
    assert editor_client.post(change_url("shared"), merged).status_code == 302
    assert Post.get("shared").body == "The quick red fox leaps."


def test_a_normal_change_page_shows_no_diff(editor_client):
    make_post("calm")
    html = page(editor_client.get(change_url("calm")))
    assert 'id="stale-diff"' not in html
