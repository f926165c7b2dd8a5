"""`manage.py rerender-photos`: give every photo its renditions again, through the photo-renders queue.

Run it after the rendition sizes or formats change (`photos.renditions`).
The command only records the job and queues its first message; the
photo-renders handler does the work (see `photos.rerender`), so it works
the same against a deployed stage and the local stack. `--wait` follows the
job until it ends; the admin's batch jobs page shows it too.
"""

from django.core.management.base import BaseCommand, CommandError

from myblog import jobs
from photos import rerender


def describe(progress):
    """One line of a job's progress, as the command prints it."""
    total = f"{progress['total']}" if progress["total_known"] else f"{progress['total']}+"
    line = (
        f"{progress['job']}: {progress['state_label'].lower()}, {progress['processed']} of {total} photos"
        f" ({progress['done']} rendered, {progress['skipped']} skipped, {progress['failed']} failed)"
    )
    return line


class Command(BaseCommand):
    help = "Make every photo's renditions again (after rendition sizes or formats change), as a queued batch job."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only-missing",
            action="store_true",
            help="only photos lacking a rendition the current sizes and formats call for",
        )
        parser.add_argument("--dry-run", action="store_true", help="count the photos and queue nothing")
        parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
        parser.add_argument("--job", help="follow this job (an id printed earlier) instead of starting one")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks with --wait")
        parser.add_argument("--timeout", type=float, default=3600.0, help="give up waiting after this many seconds")
        parser.add_argument("--user", default="manage.py", help="recorded as the job's creator")

    def handle(self, *args, **options):
        if options["dry_run"]:
            counts = rerender.survey()
            wanted = counts["missing"] if options["only_missing"] else sum(counts[s] for s in rerender.STATUSES)
            self.stdout.write(
                f"{counts['ready']} ready and {counts['failed']} failed photos; "
                f"{counts['missing']} lack a rendition the current sizes and formats call for."
            )
            self.stdout.write(f"Dry run: {wanted} photos would be rendered again; nothing was queued.")
            return
        if options["job"]:
            job = jobs.get(options["job"])
            if job is None or job.kind != rerender.KIND:
                raise CommandError(f"There is no re-render job {options['job']!r}.")
        else:
            try:
                job = rerender.start(only_missing=options["only_missing"], created_by=options["user"])
            except Exception as error:
                raise CommandError(f"The re-render job could not be queued: {error}") from error
            self.stdout.write(f"Started re-render job {job.job_id}.")
        self.stdout.write(describe(jobs.progress(job)))
        if not options["wait"]:
            self.stdout.write(f"Follow it with: manage.py rerender-photos --job {job.job_id} --wait")
            return
        try:
            progress = jobs.wait(
                job.job_id, describe, self.stdout.write, interval=options["interval"], timeout=options["timeout"]
            )
        except (jobs.JobError, TimeoutError) as error:
            raise CommandError(str(error)) from error
        if progress["failed"]:
            self.stderr.write(f"{progress['failed']} photos could not be rendered again (see above).")
