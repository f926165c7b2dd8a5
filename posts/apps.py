from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self):
        # Purge the CDN's copies of whatever a saved post changes.
        from posts import invalidation, search_index, services

        services.post_changed.connect(invalidation.on_post_changed, dispatch_uid="posts.invalidation")
        # Rebuild the search index when a change shows in it.
        services.post_changed.connect(search_index.on_post_changed, dispatch_uid="posts.search_index")
