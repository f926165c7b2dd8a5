"""End to end on the whole local stack: `manage.py rerender-photos --wait` through the stack's queue.

The command runs as an operator runs it (its own process, the stack's
endpoints and administrator keys); the stack's event pump feeds the
photo-renders queue to the packaged handler under the function's role.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests import image_fixtures as images
from tests.devstack.stack import wait_for
from tests.devstack.test_stack_events import client

pytestmark = pytest.mark.stack
BASE_DIR = Path(__file__).resolve().parents[2]


def test_rerender_photos_waits_for_the_job_the_stack_runs(local_stack):
    key = "media/originals/2026/11/rerender-on-the-stack.jpg"
    s3 = client(local_stack, "s3")
    s3.put_object(Bucket=local_stack.bucket, Key=key, Body=images.photo_jpeg((900, 600)), ContentType="image/jpeg")
    dynamodb = client(local_stack, "dynamodb")

    def photo():
        return dynamodb.get_item(
            TableName=local_stack.table("photos"), Key={"key": {"S": key}}, ConsistentRead=True
        ).get("Item")

    wait_for(lambda: (photo() or {}).get("status", {}).get("S") == "ready", "the photo to be ready")
    env = local_stack.operator_env()
    result = subprocess.run(
        [sys.executable, "manage.py", "rerender-photos", "--wait", "--interval", "0.5", "--timeout", "120"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    job_id = lines[0].removeprefix("Started re-render job ").rstrip(".")
    assert lines[-1].startswith(f"{job_id}: done, ") and " 0 failed)" in lines[-1]
    assert photo()["render_job"]["S"] == job_id
