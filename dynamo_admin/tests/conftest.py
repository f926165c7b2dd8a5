"""Fixtures for the admin layer's own tests: DynamoDB in-process (moto), the test site, editors."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from moto import mock_aws

from dynamo_admin.tests import placeholders
from dynamo_admin.tests.models import Note

PASSWORD = "correct-horse-battery"


@pytest.fixture
def notes():
    """The test model's table, on moto, fresh for each test."""
    with mock_aws():
        Note._connection = None  # a connection made outside this mock would talk to another backend
        Note.create_table(wait=True)
        yield Note
    Note._connection = None


@pytest.fixture
def note_permissions(db):
    """The placeholder's content type and permissions, as migrations make them for a real app."""
    ContentType.objects.clear_cache()
    content_type = ContentType.objects.get_for_model(placeholders.Note, for_concrete_model=False)
    codenames = [f"{action}_note" for action in placeholders.Note._meta.default_permissions]
    codenames += [codename for codename, _ in placeholders.Note._meta.permissions]
    permissions = {
        codename: Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": codename}
        )[0]
        for codename in codenames
    }
    yield permissions
    ContentType.objects.clear_cache()


@pytest.fixture
def make_editor(note_permissions):
    """A staff user holding the given note permissions ("view", "change", "archive", ...)."""

    def make(*actions, username="editor"):
        user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
        user.user_permissions.add(*(note_permissions[f"{action}_note"] for action in actions))
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def editor_client(client, make_editor, notes, settings):
    settings.ROOT_URLCONF = "dynamo_admin.tests.urls"
    client.force_login(make_editor("view", "add", "change", "delete", "archive"))
    return client


@pytest.fixture
def site_urls(settings):
    settings.ROOT_URLCONF = "dynamo_admin.tests.urls"
