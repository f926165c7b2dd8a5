"""End to end on the whole local stack: a confirmed subscriber gets one email for each new post.

The reader signs up and confirms through the site's API (the packaged
function behind the local API Gateway); an editor's publication is made
as the admin makes it, through `posts.services` in a process of its own
with the stack's endpoints and administrator keys; from there the stack
does the rest as AWS would: the fan-out and send queues go through the
event pump to the packaged handlers under the function's role, and the
email lands in the mailbox. Publishing again after an unpublish sends
nothing more.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.devstack.stack import fetch, wait_for
from tests.devstack.test_stack_events import client

pytestmark = pytest.mark.stack
BASE_DIR = Path(__file__).resolve().parents[2]
ADDRESS = "newsletter-reader@example.com"
SLUG = "kites-at-dawn"
TITLE = "Kites at dawn"


def _manage_shell(stack, code):
    env = {**stack.operator_env(), "MYBLOG_SEARCH_AUTO_UPDATE": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _mailbox_entries(stack, subject):
    status, _, body = fetch(stack.edge_url + "/_mail/")
    assert status == 200
    return [line for line in body.splitlines() if ADDRESS in line and subject in line]


def _confirmed_subscriber(stack):
    status, _, _ = fetch(
        stack.url + "/api/subscribers",
        data=json.dumps({"email": ADDRESS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 202
    index = wait_for(lambda: "\n".join(_mailbox_entries(stack, "Welcome to")) or None, "the welcome email")
    message_path = re.search(r"href='([^']+/)'>Welcome to", index).group(1)
    _, _, detail = fetch(stack.edge_url + "/_mail/" + message_path)
    token = re.search(r"href='http[^']+/subscribe/confirm/([^'/]+)/'", detail).group(1)
    status, _, _ = fetch(
        stack.url + "/api/subscribers/confirm",
        data=json.dumps({"token": token}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200


def _send(stack):
    item = client(stack, "dynamodb").get_item(
        TableName=stack.table("newsletter-sends"), Key={"post_slug": {"S": SLUG}}, ConsistentRead=True
    )
    return item.get("Item")


def test_a_confirmed_subscriber_gets_one_email_for_a_new_post(local_stack):
    _confirmed_subscriber(local_stack)
    _manage_shell(
        local_stack,
        "from posts import services\n"
        f"services.create_post(slug={SLUG!r}, title={TITLE!r}, body='Up before the wind.', "
        "status='published', email_subscribers=True, user='editor')\n",
    )
    send = wait_for(
        lambda: (lambda item: item if item and item["state"]["S"] == "done" else None)(_send(local_stack)),
        "the newsletter send to finish",
    )
    assert int(send["sent"]["N"]) >= 1 and int(send["failed"]["N"]) == 0
    [entry] = wait_for(lambda: _mailbox_entries(local_stack, TITLE) or None, "the post's email in the mailbox")
    message_path = re.search(r"href='([^']+/)'", entry).group(1)
    _, _, detail = fetch(local_stack.edge_url + "/_mail/" + message_path)
    assert "List-Unsubscribe=One-Click" in detail and "List-Id" in detail
    assert f"/posts/{SLUG}/" in detail

    # Unpublished and published again: the post was emailed once, and stays so.
    _manage_shell(
        local_stack,
        "from posts import services\n"
        f"services.unpublish_post({SLUG!r}, user='editor')\n"
        f"services.publish_post({SLUG!r}, user='editor')\n",
    )
    assert _send(local_stack)["created_at"] == send["created_at"]
    assert len(_mailbox_entries(local_stack, TITLE)) == 1
