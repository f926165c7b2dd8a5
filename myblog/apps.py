from django.apps import AppConfig
from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


class MyBlogConfig(AppConfig):
    default = True  # the app's own config; AdminConfig below stands in for django.contrib.admin
    name = "myblog"
    verbose_name = "MyBlog"

    def ready(self):
        from myblog import checks as deploy_checks  # noqa: F401  (registers the deploy checks)


class AdminConfig(SimpleAdminConfig):
    """Django's admin without discovery at start-up: readers never load it (see `myblog.public`).

    The admin modules are imported with the full URLconf instead, so its
    system checks import them first: `check`, `runserver` and `migrate` then
    check every registered ModelAdmin (the PynamoDB admins' checks among
    them), whichever order Django runs its checks in.
    """

    def ready(self):
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin_app, checks.Tags.admin)


def check_discovered_admin_app(app_configs, **kwargs):
    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)
