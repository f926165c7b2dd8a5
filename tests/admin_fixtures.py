"""Fixtures for the admin tests: editor accounts with chosen permissions."""

import pytest
from django.contrib.auth.models import Group, Permission, User

EDITOR_PASSWORD = "correct-horse-battery"
POST_PERMISSIONS = ("view_post", "add_post", "change_post", "delete_post", "publish_post")


def grant(user, *codenames):
    for codename in codenames:
        app_label, _, name = codename.rpartition(".")
        permissions = Permission.objects.filter(codename=name)
        if app_label:
            permissions = permissions.filter(content_type__app_label=app_label)
        assert permissions.exists(), codename
        user.user_permissions.add(*permissions)
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def make_editor(db):
    def make(username="editor", *codenames, staff=True):
        user = User.objects.create_user(username, f"{username}@example.com", EDITOR_PASSWORD, is_staff=staff)
        return grant(user, *codenames)

    return make


@pytest.fixture
def editor(make_editor):
    """A staff editor with every post permission, publishing included."""
    return make_editor("editor", *POST_PERMISSIONS)


@pytest.fixture
def editor_client(client, editor, aws):
    client.force_login(editor)
    return client


@pytest.fixture
def writers_group(db):
    """A group that may write posts but not publish them."""
    group = Group.objects.create(name="Writers")
    group.permissions.add(
        *Permission.objects.filter(
            codename__in=["view_post", "add_post", "change_post"], content_type__app_label="posts"
        )
    )
    return group
