from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self):
        from photos import signals as photo_signals
        from posts import invalidation, search_index, services, stored

        # Purge the CDN's copies of whatever a saved post changes.
        services.post_changed.connect(invalidation.on_post_changed, dispatch_uid="posts.invalidation")
        # Email a post to subscribers on its first publication.
        services.post_changed.connect(_newsletter_on_post_changed, dispatch_uid="posts.newsletter")
        # Rebuild the search index when a change shows in it.
        services.post_changed.connect(search_index.on_post_changed, dispatch_uid="posts.search_index")
        # Render the posts that show a photo again when its renditions are ready.
        photo_signals.renditions_ready.connect(stored.on_renditions_ready, dispatch_uid="posts.stored")


def _newsletter_on_post_changed(sender, **kwargs):
    """`posts.newsletter.on_post_changed`, imported on the first save: readers' cold starts never load it."""
    from posts import newsletter

    newsletter.on_post_changed(sender, **kwargs)
