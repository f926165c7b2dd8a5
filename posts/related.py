"""Related posts under a post: the newest other live posts that share its first tag.

One Query on the per-tag table (whose items carry what a card shows), for
the post's first tag: the editor's order puts the tag that says most
first. No Query at all for a post without tags.
"""

from posts import queries
from posts.pages import Card

RELATED_COUNT = 3


def related_posts(post, count=RELATED_COUNT, now=None):
    """Up to `count` cards of live posts sharing `post`'s first tag, newest first, `post` itself left out."""
    if not post.tags:
        return []
    items, _ = queries.posts_tagged(post.tags[0], limit=count + 1, now=now)
    return [Card.from_item(item) for item in items if item.slug != post.slug][:count]
