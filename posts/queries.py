"""The read path for posts: the few GetItem/Query calls pages and the API need.

Never a Scan. Each function is one DynamoDB call.
"""

from posts.models import FEED_PUBLISHED, PUBLISHED, Post


def get_live_post(slug):
    """The published post with this slug, or None (drafts are never returned)."""
    try:
        post = Post.get(slug)
    except Post.DoesNotExist:
        return None
    return post if post.status == PUBLISHED else None


def latest_posts(limit=10, last_evaluated_key=None):
    """One page of live posts, newest first, and the key to continue from."""
    results = Post.published_index.query(
        FEED_PUBLISHED, scan_index_forward=False, limit=limit, last_evaluated_key=last_evaluated_key
    )
    posts = list(results)
    return posts, results.last_evaluated_key
