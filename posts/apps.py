from importlib import import_module

from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Posts"

    def ready(self):
        from myblog.signals import job_ended
        from photos import signals as photo_signals
        from posts import stored
        from posts.signals import post_changed

        # The receivers of post_changed import their modules on the first
        # save: a reader's cold start never loads the write path.
        for module in (
            "posts.invalidation",  # purge the CDN's copies of whatever a saved post changes
            "posts.newsletter",  # email a post to subscribers on its first publication
            "posts.search_index",  # rebuild the search index when a change shows in it
        ):
            post_changed.connect(_on_first_call(module, "on_post_changed"), dispatch_uid=module, weak=False)
        # Render the posts that show a photo again when its renditions are ready.
        photo_signals.renditions_ready.connect(stored.on_renditions_ready, dispatch_uid="posts.stored")
        # Purge the CDN once at the end of a photo re-render job (not once per photo).
        job_ended.connect(
            _on_first_call("posts.invalidation", "on_job_ended"), dispatch_uid="posts.invalidation", weak=False
        )


def _on_first_call(module, function):
    """A receiver calling `module.function`, importing the module when the signal is first sent.

    Connected with `weak=False`: nothing else holds the receiver.
    """

    def receiver(sender, **kwargs):
        getattr(import_module(module), function)(sender, **kwargs)

    return receiver
