from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self):
        # Purge the CDN's copies of whatever a saved post changes.
        from posts import invalidation, services

        services.post_changed.connect(invalidation.on_post_changed, dispatch_uid="posts.invalidation")
