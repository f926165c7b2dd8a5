"""Keep the local bucket's objects on disk, because moto server forgets them.

moto keeps S3 in memory, so a restart of the local stack would lose every
uploaded photo. The mirror copies new and changed objects (with their
Content-Type and Cache-Control) to `var/s3/<bucket>/` every few seconds and
on shutdown, and puts them back when the stack starts, before event
notifications are configured so a restore never re-triggers the handlers.
"""

import json
import logging
import threading
from pathlib import Path

from myblog import aws

log = logging.getLogger(__name__)
META_SUFFIX = ".s3meta.json"


class BucketMirror:
    def __init__(self, bucket, root, interval=2.0):
        self.bucket = bucket
        self.root = Path(root) / bucket
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None
        self._known = {}

    def _paths(self, key):
        data = self.root / key
        return data, data.with_name(data.name + META_SUFFIX)

    def restore(self):
        """Upload every mirrored object back into the (empty) bucket."""
        s3 = aws.client("s3")
        count = 0
        for meta_path in sorted(self.root.rglob("*" + META_SUFFIX)) if self.root.exists() else []:
            meta = json.loads(meta_path.read_text())
            data_path = meta_path.with_name(meta_path.name[: -len(META_SUFFIX)])
            if not data_path.exists():
                continue
            extra = {
                k: v
                for k, v in (("ContentType", meta.get("ContentType")), ("CacheControl", meta.get("CacheControl")))
                if v
            }
            s3.put_object(Bucket=self.bucket, Key=meta["Key"], Body=data_path.read_bytes(), **extra)
            count += 1
        self._known = self._listing()
        return count

    def _listing(self):
        s3 = aws.client("s3")
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = obj["ETag"]
        return found

    def sync(self):
        """Copy new/changed objects to disk and drop deleted ones."""
        s3 = aws.client("s3")
        current = self._listing()
        for key, etag in current.items():
            if self._known.get(key) == etag:
                continue
            data_path, meta_path = self._paths(key)
            if not data_path.resolve().is_relative_to(self.root.resolve()):
                log.warning("mirror: skipping unsafe key %r", key)
                continue
            obj = s3.get_object(Bucket=self.bucket, Key=key)
            data_path.parent.mkdir(parents=True, exist_ok=True)
            data_path.write_bytes(obj["Body"].read())
            meta_path.write_text(
                json.dumps(
                    {
                        "Key": key,
                        "ETag": etag,
                        "ContentType": obj.get("ContentType"),
                        "CacheControl": obj.get("CacheControl"),
                    }
                )
            )
        for key in set(self._known) - set(current):
            for path in self._paths(key):
                path.unlink(missing_ok=True)
        self._known = current

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:  # the emulator may be going away; try again next tick
                log.exception("mirror: sync failed")

    def start(self):
        self._thread = threading.Thread(target=self._run, name="bucket-mirror", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        try:
            self.sync()
        except Exception:
            log.exception("mirror: final sync failed")
