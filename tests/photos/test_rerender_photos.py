"""Re-rendering every photo: the command, the fan-out over the status index, the per-photo messages.

Real images on moto's S3, the photo-renders queue on moto's SQS, and the
messages fed to `photos.handlers.rerender_photos` as Lambda's SQS mapping
feeds them (tests/sqs_fixtures.py).
"""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from myblog import jobs
from photos import handlers, processing, rerender
from photos.keys import rendition_key
from photos.models import Photo
from photos.status import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY
from tests import image_fixtures as images
from tests.photos.test_handlers_photos import upload
from tests.sqs_fixtures import body_event

QUEUE = rerender.QUEUE
START = timezone.now() - timedelta(days=30)
PHOTO_PENDING_KEY = "media/originals/2026/11/never-uploaded.jpg"


def original(index):
    return f"media/originals/2026/11/photo-{index:02d}.jpg"


def add_ready_photos(aws, count, size=(700, 500)):
    """`count` photos made ready by the upload handler, oldest first."""
    keys = []
    for index in range(count):
        key = original(index)
        handlers.make_renditions(upload(aws, key, images.photo_jpeg(size)), None)
        Photo(key).update(actions=[Photo.created_at.set(START + timedelta(minutes=index))])
        keys.append(key)
    return keys


@pytest.fixture
def renders(monkeypatch):
    """The keys the image code renders, in order."""
    rendered = []
    real = processing.render_original

    def counting(key, data):
        rendered.append(key)
        return real(key, data)

    monkeypatch.setattr(processing, "render_original", counting)
    return rendered


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(rerender, "PAGE_SIZE", 2)


def run(pump, **kwargs):
    return pump.drain(QUEUE, handlers.rerender_photos, **kwargs)


def test_a_job_over_several_pages_renders_every_photo_once(aws, job_queues, small_pages, renders):
    keys = add_ready_photos(aws, 5)
    Photo(PHOTO_PENDING_KEY, status=PHOTO_PENDING).save()  # an upload granted, never made: not the job's
    renders.clear()

    job = rerender.start(created_by="ed")
    assert job_queues.bodies(QUEUE) == [{"job": job.job_id, "kind": "fanout", "page": 0, "cursor": None}]
    run(job_queues)

    job = jobs.get(job.job_id)
    assert job.state == jobs.DONE and job.finished_at
    assert (job.total, job.done, job.skipped, job.failed) == (5, 5, 0, 0)
    assert sorted(renders) == keys
    for key in keys:
        photo = Photo.get(key)
        assert photo.render_job == job.job_id and photo.status == PHOTO_READY and photo.render_error is None
        assert sorted((int(r.width), r.format) for r in photo.renditions) == sorted(
            (w, f) for w in (700, 640, 320) for f in ("jpeg", "webp", "avif")
        )
    assert Photo.get(PHOTO_PENDING_KEY).render_job is None
    # Three pages of ready photos (2, 2, 1), then the failed ones: one fan-out message each.
    fanouts = [r for e in job_queues.events for r in e["Records"] if '"fanout"' in r["body"]]
    assert len(fanouts) >= 4 and jobs.progress(job)["percent"] == 100


def test_new_rendition_sizes_are_made_for_every_photo(aws, job_queues, monkeypatch):
    (key,) = add_ready_photos(aws, 1, size=(1000, 700))
    real_render = processing.images.render
    monkeypatch.setattr(processing.images, "render", lambda data: real_render(data, widths=(1920, 800, 400)))
    job = rerender.start()
    run(job_queues)
    photo = Photo.get(key)
    assert sorted({int(r.width) for r in photo.renditions}) == [400, 800, 1000]
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=rendition_key(key, 800, "webp"))
    assert head["ContentType"] == "image/webp"
    assert jobs.get(job.job_id).done == 1


def test_redelivered_messages_do_nothing_twice(aws, job_queues, small_pages, renders):
    keys = add_ready_photos(aws, 3)
    renders.clear()
    job = rerender.start()
    # Every batch is handled and then delivered again, as if each invocation
    # died before Lambda deleted its messages.
    for _ in range(40):
        event, _ = job_queues.deliver(QUEUE, handlers.rerender_photos, keep=True)
        if event is None:
            break
        job_queues.deliver(QUEUE, handlers.rerender_photos)  # the redelivery, handled and deleted
    run(job_queues)
    job = jobs.get(job.job_id)
    assert job.state == jobs.DONE
    assert (job.total, job.done, job.skipped, job.failed) == (3, 3, 0, 0)
    assert sorted(set(renders)) == keys
    # Three steps (ready photos 2 + 1, then the failed ones), each recorded once.
    assert job.page == 3


def test_a_redelivered_photo_message_is_not_rendered_again(aws, job_queues, renders):
    (key,) = add_ready_photos(aws, 1)
    renders.clear()
    job = rerender.start()
    run(job_queues)
    body = {"job": job.job_id, "kind": "photo", "key": key}
    assert handlers.rerender_photos(body_event(QUEUE, body, body), None) == {"batchItemFailures": []}
    assert renders == [key]
    assert jobs.get(job.job_id).done == 1


def test_two_copies_racing_count_the_photo_once(aws, job_queues, renders, monkeypatch):
    (key,) = add_ready_photos(aws, 1)
    job = rerender.start()
    job_queues.deliver(QUEUE, handlers.rerender_photos)  # the fan-out
    # The first copy renders; before it records, the second copy has read the
    # photo unmarked, rendered too, and recorded first.
    real_record = rerender._record
    calls = []

    def racing(job_id, photo_key, actions, **kwargs):
        if not calls:
            calls.append(1)
            rerender.rerender(job_id, photo_key)
        return real_record(job_id, photo_key, actions, **kwargs)

    monkeypatch.setattr(rerender, "_record", racing)
    assert rerender.rerender(job.job_id, key) == rerender.ALREADY
    assert renders.count(key) == 3  # the upload, then both copies
    assert jobs.get(job.job_id).done == 1


def test_a_broken_original_is_recorded_failed_and_the_job_still_finishes(aws, job_queues, small_pages, caplog):
    keys = add_ready_photos(aws, 3)
    before = Photo.get(keys[1])
    s3 = aws.client("s3")
    s3.put_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=keys[1], Body=images.truncated_jpeg())
    s3.delete_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=keys[2])
    job = rerender.start()
    run(job_queues)

    job = jobs.get(job.job_id)
    assert job.state == jobs.DONE
    assert (job.total, job.done, job.failed) == (3, 1, 2)
    assert len(job.errors) == 2
    assert any(error.startswith(f"{keys[1]}: cannot decode the image") for error in job.errors)
    assert f"{keys[2]}: the original is no longer in the bucket" in job.errors
    broken = Photo.get(keys[1])
    # The site keeps showing the renditions made before.
    assert broken.status == PHOTO_READY
    assert [r.as_dict() for r in broken.renditions] == [r.as_dict() for r in before.renditions]
    assert broken.render_job == job.job_id and broken.render_error.startswith("cannot decode")
    assert "not rendered" in caplog.text


def test_previously_failed_photos_are_tried_again(aws, job_queues):
    key = original(7)
    handlers.make_renditions(upload(aws, key, b"not yet an image"), None)
    assert Photo.get(key).status == PHOTO_FAILED
    aws.client("s3").put_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=images.photo_jpeg((500, 400)))
    job = rerender.start()
    run(job_queues)
    photo = Photo.get(key)
    assert photo.status == PHOTO_READY and photo.error is None and photo.renditions
    assert jobs.get(job.job_id).done == 1


def test_errors_kept_are_the_first_few_and_every_failure_is_counted(aws, job_queues, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ERRORS", 2)
    for index in range(4):
        key = original(index)
        Photo(key, status=PHOTO_READY, created_at=START + timedelta(minutes=index)).save()
    job = rerender.start()
    run(job_queues)
    job = jobs.get(job.job_id)
    assert (job.total, job.failed, len(job.errors), job.state) == (4, 4, 2, jobs.DONE)


def test_only_missing_renders_the_photos_lacking_a_rendition(aws, job_queues, renders):
    complete, lacking = add_ready_photos(aws, 2)
    photo = Photo.get(lacking)
    Photo(lacking).update(actions=[Photo.renditions.set([r for r in photo.renditions if r.format == "jpeg"])])
    renders.clear()
    job = rerender.start(only_missing=True)
    run(job_queues)
    job = jobs.get(job.job_id)
    assert renders == [lacking]
    assert (job.total, job.done, job.skipped, job.state) == (2, 1, 1, jobs.DONE)
    assert Photo.get(complete).render_job is None
    assert {r.format for r in Photo.get(lacking).renditions} == {"jpeg", "webp", "avif"}


def test_a_fanout_message_ahead_of_the_job_is_retried_and_bad_messages_are_dropped(aws, job_queues, caplog):
    job = rerender.start()
    event = body_event(
        QUEUE,
        {"job": job.job_id, "kind": "fanout", "page": 3, "cursor": None},
        "not json",
        {"job": "no-such-job", "kind": "photo", "key": original(1)},
        {"job": job.job_id, "kind": "photo", "key": "../etc/passwd"},
        {"job": job.job_id, "kind": "something"},
        {"job": job.job_id, "kind": "fanout", "page": True},
    )
    response = handlers.rerender_photos(event, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert jobs.get(job.job_id).page == 0


def test_a_cancelled_job_drops_its_messages(aws, job_queues, renders):
    add_ready_photos(aws, 2)
    renders.clear()
    job = rerender.start()
    job_queues.deliver(QUEUE, handlers.rerender_photos, batch_size=1)  # the fan-out: photos queued
    jobs.cancel(job.job_id)
    run(job_queues)
    assert renders == []
    assert jobs.get(job.job_id).state == jobs.CANCELLED
    with pytest.raises(jobs.JobError, match="already cancelled"):
        jobs.cancel(job.job_id)


def test_no_new_message_is_started_when_time_runs_out(aws, job_queues, renders):
    (key,) = add_ready_photos(aws, 1)
    renders.clear()
    job = rerender.start()

    class Context:
        def get_remaining_time_in_millis(self):
            return 5_000

    _, response = job_queues.deliver(QUEUE, handlers.rerender_photos, context=Context())
    assert len(response["batchItemFailures"]) == 1
    run(job_queues)
    assert renders == [key] and jobs.get(job.job_id).state == jobs.DONE


def test_an_empty_library_finishes_at_once(aws, job_queues):
    job = rerender.start()
    run(job_queues)
    job = jobs.get(job.job_id)
    assert job.state == jobs.DONE and job.total == 0 and jobs.progress(job)["percent"] == 100


def test_a_job_that_cannot_be_queued_is_ended_failed(aws):
    # No queue exists: SQS refuses.
    with pytest.raises(Exception):  # noqa: B017  (botocore's QueueDoesNotExist)
        rerender.start()
    (job,) = jobs.recent(rerender.KIND)
    assert job.state == jobs.FAILED and "could not be queued" in job.errors[0]


def test_dry_run_counts_and_queues_nothing(aws, job_queues):
    add_ready_photos(aws, 2)
    Photo(original(9), status=PHOTO_FAILED).save()
    out = io.StringIO()
    call_command("rerender-photos", "--dry-run", stdout=out)
    assert "2 ready and 1 failed photos; 1 lack a rendition" in out.getvalue()
    assert "Dry run: 3 photos would be rendered again" in out.getvalue()
    out = io.StringIO()
    call_command("rerender-photos", "--dry-run", "--only-missing", stdout=out)
    assert "Dry run: 1 photos would be rendered again" in out.getvalue()
    assert job_queues.bodies(QUEUE) == [] and jobs.recent(rerender.KIND) == []


def test_the_command_starts_a_job_and_follows_it_to_the_end(aws, job_queues, monkeypatch):
    add_ready_photos(aws, 3)
    # Between two checks of the job, the queue is worked (as Lambda would).
    monkeypatch.setattr(
        jobs.time, "sleep", lambda seconds: job_queues.deliver(QUEUE, handlers.rerender_photos, batch_size=2)
    )
    out = io.StringIO()
    call_command("rerender-photos", "--wait", "--interval", "0", "--user", "ed", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Started re-render job ")
    assert lines[-1].endswith("done, 3 of 3 photos (3 rendered, 0 skipped, 0 failed)")
    (job,) = jobs.recent(rerender.KIND)
    assert job.created_by == "ed" and job.state == jobs.DONE


def test_the_command_follows_a_job_and_says_so_when_it_did_not_finish(aws, job_queues):
    job = rerender.start()
    jobs.cancel(job.job_id)
    with pytest.raises(CommandError, match="ended cancelled"):
        call_command("rerender-photos", "--job", job.job_id, "--wait", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no re-render job"):
        call_command("rerender-photos", "--job", "nope", stdout=io.StringIO())


def test_the_status_index_pages_through_every_status(dynamodb, monkeypatch):
    """The fan-out's Query, on moto and on AWS's DynamoDB Local."""
    for index in range(5):
        Photo(original(index), status=PHOTO_READY, created_at=START + timedelta(minutes=index)).save()
    Photo(original(5), status=PHOTO_FAILED, created_at=START).save()
    Photo(original(6), status=PHOTO_PENDING, created_at=START).save()
    seen, cursor = [], None
    while True:
        photos, cursor = rerender.read_page(cursor, page_size=2)
        seen.extend(photo.key for photo in photos)
        if cursor is None:
            break
    assert seen == [original(index) for index in range(6)]


def test_a_rerendered_photo_renders_the_posts_showing_it_again(aws, job_queues, monkeypatch):
    from photos.rendering import markdown_for_photo
    from posts.models import Post, PostTag
    from tests.reader_fixtures import publish

    (key,) = add_ready_photos(aws, 1, size=(1000, 700))
    post = publish("shows-it", tags=["photos"], body=markdown_for_photo(key, "A photo"), cover_image=key)
    assert "800w" not in Post.get("shows-it").body_html
    real_render = processing.images.render
    monkeypatch.setattr(processing.images, "render", lambda data: real_render(data, widths=(1920, 800, 400)))
    rerender.start()
    run(job_queues)
    after = Post.get("shows-it")
    assert after.version == post.version  # an editor's open form is still current
    assert "800w" in after.body_html
    assert sorted({r.width for r in after.cover_photo.renditions}) == [400, 800, 1000]
    [item] = PostTag.query("photos")
    assert sorted({r.width for r in item.cover_photo.renditions}) == [400, 800, 1000]
