from django.apps import AppConfig


class MyBlogConfig(AppConfig):
    name = "myblog"
    verbose_name = "MyBlog"

    def ready(self):
        from myblog import checks  # noqa: F401  (registers the deploy checks)
