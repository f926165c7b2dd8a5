from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self):
        from photos import signals as photo_signals
        from posts import stored
        from posts.signals import post_changed

        # The receivers of post_changed import their modules on the first
        # save: a reader's cold start never loads the write path.
        # Purge the CDN's copies of whatever a saved post changes.
        post_changed.connect(_invalidation_on_post_changed, dispatch_uid="posts.invalidation")
        # Email a post to subscribers on its first publication.
        post_changed.connect(_newsletter_on_post_changed, dispatch_uid="posts.newsletter")
        # Rebuild the search index when a change shows in it.
        post_changed.connect(_search_index_on_post_changed, dispatch_uid="posts.search_index")
        # Render the posts that show a photo again when its renditions are ready.
        photo_signals.renditions_ready.connect(stored.on_renditions_ready, dispatch_uid="posts.stored")


def _invalidation_on_post_changed(sender, **kwargs):
    """`posts.invalidation.on_post_changed`, imported on the first save."""
    from posts import invalidation

    invalidation.on_post_changed(sender, **kwargs)


def _newsletter_on_post_changed(sender, **kwargs):
    """`posts.newsletter.on_post_changed`, imported on the first save."""
    from posts import newsletter

    newsletter.on_post_changed(sender, **kwargs)


def _search_index_on_post_changed(sender, **kwargs):
    """`posts.search_index.on_post_changed`, imported on the first save."""
    from posts import search_index

    search_index.on_post_changed(sender, **kwargs)
