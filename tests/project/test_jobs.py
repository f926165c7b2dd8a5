"""The batch jobs' record (`myblog.jobs`) and its admin page, on moto and on DynamoDB Local."""

from datetime import timedelta

import pytest
from django.utils import timezone

from myblog import jobs
from myblog.admin import JobAdmin
from myblog.models import Job
from myblog.placeholders import Job as JobPlaceholder

CHANGELIST = "/admin/myblog/job/"


def test_a_job_is_created_running_with_a_fresh_id(dynamodb):
    first = jobs.create("test.kind", created_by="ed", options={"only_missing": True})
    second = jobs.create("test.kind")
    assert first.job_id != second.job_id
    stored = jobs.get(first.job_id)
    assert (stored.kind, stored.state, stored.created_by, stored.options) == (
        "test.kind",
        jobs.RUNNING,
        "ed",
        {"only_missing": True},
    )
    assert (stored.page, stored.total, stored.done, stored.errors, stored.queued_all) == (0, 0, 0, [], False)
    assert jobs.get("no-such-job") is None and jobs.get("") is None and jobs.get(None) is None


def test_a_step_is_recorded_once_and_the_last_unit_finishes_the_job(dynamodb):
    job = jobs.create("test.kind")
    stale = jobs.get(job.job_id)
    assert jobs.advance(job, page=0, cursor={"after": "x"}, total=3, done=1, errors=["unit 1: bad"]) is job
    # A second copy of the same step's message: the page moved on.
    assert jobs.advance(stale, page=0, cursor={"after": "x"}, total=3, done=1) is None
    job = jobs.get(job.job_id)
    assert (job.page, jobs.decode_cursor(job), job.total, job.done, job.errors) == (
        1,
        {"after": "x"},
        3,
        1,
        ["unit 1: bad"],
    )
    job = jobs.advance(job, page=1, cursor=None, last=True, total=0)
    assert job.state == jobs.RUNNING and job.queued_all and job.cursor is None
    jobs.count(job.job_id, skipped=1)
    job = jobs.count(job.job_id, failed=1, error="unit 3: worse")
    assert job.state == jobs.DONE and job.finished_at
    assert jobs.progress(job) | {"created_at": None, "finished_at": None, "job": None} == {
        "job": None,
        "kind": "test.kind",
        "state": "done",
        "state_label": "Done",
        "total": 3,
        "total_known": True,
        "done": 1,
        "skipped": 1,
        "failed": 1,
        "processed": 3,
        "percent": 100,
        "errors": ["unit 1: bad", "unit 3: worse"],
        "created_at": None,
        "created_by": "",
        "finished_at": None,
        "ended": True,
    }


def test_a_step_may_number_itself_by_row(dynamodb):
    job = jobs.create("test.rows")
    job = jobs.advance(job, page=0, next_page=250, last=True, total=300, done=250)
    assert job.page == 250 and jobs.progress(job)["percent"] == 83
    assert jobs.advance(jobs.get(job.job_id), page=0, next_page=250) is None
    job = jobs.advance(job, page=250, next_page=300, done=50)
    assert job.state == jobs.DONE


def test_the_errors_kept_are_the_first_few(dynamodb, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ERRORS", 3)
    job = jobs.create("test.kind")
    job = jobs.advance(job, page=0, errors=["a", "b"], failed=2)
    for error in ("c", "d", "e"):
        job = jobs.count(job.job_id, failed=1, error=error)
    job = jobs.advance(job, page=1, errors=["f" * 1000], failed=1)
    assert job.errors == ["a", "b", "c"] and job.failed == 6


def test_errors_are_cut_to_a_readable_length(aws):
    job = jobs.advance(jobs.create("test.kind"), page=0, errors=["x" * 1000])
    assert job.errors == ["x" * jobs.MAX_ERROR_LENGTH]


def test_an_ended_job_takes_no_more_steps_and_cannot_be_cancelled(aws):
    job = jobs.create("test.kind")
    jobs.cancel(job.job_id)
    assert jobs.advance(job, page=0, done=1) is None
    assert jobs.get(job.job_id).state == jobs.CANCELLED
    with pytest.raises(jobs.JobError, match="already cancelled"):
        jobs.cancel(job.job_id)
    with pytest.raises(jobs.JobError, match="no such job"):
        jobs.cancel("nope")
    assert jobs.count("nope", done=1) is None


def test_job_ended_is_sent_once_by_whatever_ends_the_job(aws):
    from myblog.signals import job_ended

    ended = []

    def receiver(sender, job, state, **kwargs):
        ended.append((job.job_id, state, int(job.done or 0)))

    job_ended.connect(receiver)
    try:
        finished = jobs.create("test.kind")
        jobs.advance(finished, page=0, last=True, total=2)
        jobs.count(finished.job_id, done=1)
        assert ended == []  # one unit still to count
        jobs.count(finished.job_id, done=1)
        cancelled = jobs.create("test.kind")
        jobs.cancel(cancelled.job_id)
        with pytest.raises(jobs.JobError):
            jobs.cancel(cancelled.job_id)  # already ended: not sent again
        jobs.finish_if_complete(jobs.get(finished.job_id))
    finally:
        job_ended.disconnect(receiver)
    assert ended == [(finished.job_id, jobs.DONE, 2), (cancelled.job_id, jobs.CANCELLED, 0)]


def test_following_a_job_writes_each_change_once_then_its_errors(aws):
    job = jobs.create("test.kind")
    jobs.advance(job, page=0, total=2, done=1, last=True)
    job = jobs.get(job.job_id)
    lines = []

    def describe(progress):
        return f"{progress['state']} {progress['processed']}/{progress['total']}"

    with pytest.raises(TimeoutError, match="still running"):
        jobs.follow(job.job_id, describe, lines.append, interval=0, timeout=0)
    assert lines == ["running 1/2"]
    jobs.count(job.job_id, failed=1, error="unit 2: unreadable")
    ended = jobs.follow(job.job_id, describe, lines.append, interval=0, timeout=5)
    assert ended["state"] == jobs.DONE
    assert lines == ["running 1/2", "done 2/2", "  unit 2: unreadable"]


def test_counters_are_only_the_jobs_own():
    with pytest.raises(ValueError, match="not a job counter"):
        jobs.count_actions(sent=1)


def test_recent_jobs_are_newest_first_and_of_a_kind(dynamodb):
    now = timezone.now()
    old = jobs.create("a", now=now - timedelta(hours=2))
    new = jobs.create("a", now=now - timedelta(hours=1))
    other = jobs.create("b", now=now)
    assert [j.job_id for j in jobs.recent()] == [other.job_id, new.job_id, old.job_id]
    assert [j.job_id for j in jobs.recent("a")] == [new.job_id, old.job_id]


# -- the admin -------------------------------------------------------------------------------


@pytest.fixture
def job_viewer(client, make_editor, aws):
    client.force_login(make_editor("watcher", "myblog.view_job"))
    return client


def test_the_jobs_list_and_a_running_jobs_page(job_viewer):
    job = jobs.create("photos.rerender", created_by="ed")
    jobs.advance(job, page=0, total=8, done=2, failed=1, errors=["media/originals/x.jpg: gone"])
    listing = job_viewer.get(CHANGELIST).content.decode()
    assert job.job_id in listing and "photos.rerender" in listing and "3 of 8+ (1 failed)" in listing
    assert "cancel_selected" not in listing  # viewing only
    page = job_viewer.get(f"{CHANGELIST}{job.job_id}/change/").content.decode()
    assert '<progress max="100" value="37"' in page
    assert "<strong>2</strong> done" in page and "media/originals/x.jpg: gone" in page
    assert 'http-equiv="refresh"' in page
    jobs.finish(jobs.get(job.job_id), jobs.DONE)
    assert 'http-equiv="refresh"' not in job_viewer.get(f"{CHANGELIST}{job.job_id}/change/").content.decode()


def test_cancelling_jobs_needs_the_change_permission(client, make_editor, aws):
    job = jobs.create("photos.rerender")
    client.force_login(make_editor("watcher", "myblog.view_job"))
    client.post(CHANGELIST, {"action": "cancel_selected", "_selected_action": [job.job_id]})
    assert jobs.get(job.job_id).state == jobs.RUNNING
    client.force_login(make_editor("operator", "myblog.view_job", "myblog.change_job"))
    response = client.post(CHANGELIST, {"action": "cancel_selected", "_selected_action": [job.job_id]}, follow=True)
    assert "Cancelled 1 batch job." in response.content.decode()
    assert jobs.get(job.job_id).state == jobs.CANCELLED
    response = client.post(CHANGELIST, {"action": "cancel_selected", "_selected_action": [job.job_id]}, follow=True)
    assert "already cancelled" in response.content.decode()


def test_jobs_cannot_be_added_or_deleted_in_the_admin(client, make_editor, aws):
    job = jobs.create("photos.rerender")
    client.force_login(make_editor("boss", "myblog.view_job", "myblog.change_job", "myblog.delete_job"))
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{job.job_id}/delete/").status_code == 403
    assert Job.get(job.job_id)


def test_the_jobs_admin_passes_the_system_checks():
    from django.contrib import admin

    model_admin = admin.site._registry[JobPlaceholder]
    assert isinstance(model_admin, JobAdmin) and model_admin.check() == []
