"""`manage.py import-subscribers FILE`: import a CSV of addresses, as the admin's import page does.

The same job as the admin's (see `subscribers.imports`): the file is
checked and stored, the job recorded and its first message queued; the
subscriber-imports handler adds the rows. `--wait` follows the job until
it ends.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from myblog import jobs
from subscribers import imports


def describe(progress):
    return (
        f"{progress['job']}: {progress['state_label'].lower()}, {progress['processed']} of {progress['total']} rows"
        f" ({progress['done']} added, {progress['skipped']} skipped, {progress['failed']} failed)"
    )


class Command(BaseCommand):
    help = "Import subscribers from a CSV file (pending, so each gets the confirmation email, unless --confirmed)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (an email column; optional name and created columns)")
        parser.add_argument(
            "--confirmed",
            action="store_true",
            help="the addresses are confirmed already (they get no confirmation email); needs --consent-note",
        )
        parser.add_argument("--consent-note", default="", help="how these readers consented (stored on each)")
        parser.add_argument("--wait", action="store_true", help="follow the import until it ends")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks with --wait")
        parser.add_argument("--timeout", type=float, default=3600.0, help="give up waiting after this many seconds")
        parser.add_argument("--user", default="manage.py", help="recorded as the import's creator")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        if options["confirmed"] and not options["consent_note"].strip():
            raise CommandError("--confirmed needs --consent-note: say how these readers consented.")
        try:
            job, parsed = imports.start_import(
                data,
                filename=path.name,
                confirmed=options["confirmed"],
                consent_note=options["consent_note"],
                created_by=options["user"],
            )
        except (imports.InvalidFile, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Started import {job.job_id} of {len(parsed.rows)} rows from {path.name}.")
        if not options["wait"]:
            return
        try:
            jobs.wait(
                job.job_id, describe, self.stdout.write, interval=options["interval"], timeout=options["timeout"]
            )
        except (jobs.JobError, TimeoutError) as error:
            raise CommandError(str(error)) from error
