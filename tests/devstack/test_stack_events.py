"""End to end on the whole local stack (`manage.py runlocal`): events really flow.

A photo put in the stack's bucket under the originals prefix gets its
renditions and a ready Photo; a sign-up through the public API produces a
welcome email that the local mailbox shows, with a confirm link that works.
"""

import io
import json
import re

import boto3
import pytest
from PIL import Image

from tests import image_fixtures as images
from tests.devstack.stack import fetch, wait_for

pytestmark = pytest.mark.stack


def client(stack, service):
    env = stack.aws_env
    endpoint = env["AWS_ENDPOINT_URL_DYNAMODB"] if service == "dynamodb" else env["AWS_ENDPOINT_URL"]
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def test_uploaded_photo_gets_renditions_on_the_stack(local_stack):
    key = "media/originals/2026/11/end-to-end.jpg"
    s3 = client(local_stack, "s3")
    s3.put_object(Bucket=local_stack.bucket, Key=key, Body=images.photo_jpeg((1300, 900)), ContentType="image/jpeg")
    dynamodb = client(local_stack, "dynamodb")

    def ready():
        item = dynamodb.get_item(
            TableName=local_stack.table("photos"), Key={"key": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return item if item and item["status"]["S"] == "ready" else None

    item = wait_for(ready, "the photo to be ready")
    renditions = [entry["M"] for entry in item["renditions"]["L"]]
    assert sorted({int(r["width"]["N"]) for r in renditions}) == [320, 640, 960, 1280, 1300]
    some = next(r for r in renditions if r["format"]["S"] == "webp")
    obj = s3.get_object(Bucket=local_stack.bucket, Key=some["key"]["S"])
    assert obj["ContentType"] == "image/webp"
    assert Image.open(io.BytesIO(obj["Body"].read())).width == int(some["width"]["N"])


def test_sign_up_sends_a_welcome_email_shown_in_the_mailbox(local_stack):
    address = "end-to-end@example.com"
    status, _, _ = fetch(
        local_stack.url + "/api/subscribers",
        data=json.dumps({"email": address}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 202
    mailbox = local_stack.edge_url + "/_mail/"

    def listed():
        status, _, body = fetch(mailbox)
        return body if status == 200 and address in body else None

    index = wait_for(listed, "the welcome email in the mailbox")
    message_path = re.search(r"href='([^']+/)'>Welcome to", index).group(1)
    status, _, detail = fetch(mailbox + message_path)
    assert status == 200
    assert "List-Unsubscribe-Post" in detail and "List-Unsubscribe=One-Click" in detail
    token = re.search(r"href='http[^']+/subscribe/confirm/([^'/]+)/'", detail).group(1)
    status, _, page = fetch(local_stack.url + f"/subscribe/confirm/{token}/")
    assert status == 200 and "Confirm" in page  # the link opens the confirmation page
    status, _, _ = fetch(
        local_stack.url + "/api/subscribers/confirm",
        data=json.dumps({"token": token}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200
    dynamodb = client(local_stack, "dynamodb")
    item = dynamodb.get_item(
        TableName=local_stack.table("subscribers"), Key={"email": {"S": address}}, ConsistentRead=True
    )
    assert item["Item"]["status"]["S"] == "confirmed"
    assert "welcome_sent_at" in item["Item"]
