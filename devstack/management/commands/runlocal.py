"""`manage.py runlocal`: the blog with everything, on loopback, no AWS account.

Starts DynamoDB Local and moto server, creates the tables, bucket and SES
identity, seeds demo content on first run, runs the event pump (S3 uploads ->
thumbnails, new subscribers -> welcome email, the publishing schedule), the
CloudFront stand-in for media, and the site. State lives in `var/`.

By default the site, the API and every event handler run from the
deployment package, built as a deploy builds it, in a local Lambda runtime
behind a local API Gateway, with the function role's credentials and IAM
enforced (devstack/lambda_stack.py). `--source` runs today's source tree
in this virtualenv with Django's runserver instead: quicker to iterate on,
further from what Lambda runs.
"""

import os
import signal
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from devstack.stack import LocalStack, Ports, local_environment

# Each ends the stack as Ctrl-C does: SIGTERM from a supervisor or `kill`,
# SIGHUP when the terminal goes away.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopOnSignal:
    """The handler of the stop signals: a request to stop, honoured until the shutdown begins.

    Installed explicitly, SIGINT included: a background job of a
    non-interactive shell starts with SIGINT ignored, and Python keeps an
    ignored SIGINT ignored, so `kill -INT` would do nothing.

    The handler raises KeyboardInterrupt wherever the main thread is, and
    Python drops an exception raised in a finaliser or an at-fork hook
    (logging's runs at every fork, so at every child started): `check()`,
    called between the steps of the start and while idle, raises it again.
    Once the shutdown has begun, further signals (a second Ctrl-C, a signal
    forwarded twice) are noted and ignored, so they cannot cut it short and
    leave the emulators and Django running.
    """

    def __init__(self):
        self.requested = False
        self.stopping = False

    def __call__(self, signum, frame):
        self.requested = True
        if not self.stopping:
            raise KeyboardInterrupt

    def check(self):
        if self.requested and not self.stopping:
            raise KeyboardInterrupt

    def idle(self):
        """Wait for a stop signal (raises KeyboardInterrupt)."""
        while True:
            self.check()
            time.sleep(1)

    def install(self):
        for signum in STOP_SIGNALS:
            signal.signal(signum, self)
        return self


class Command(BaseCommand):
    help = "Run MyBlog locally with emulated AWS, demo content and event handlers."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=8000, help="Django's port; the emulators use the next three (default 8000)."
        )
        parser.add_argument(
            "--var", default=str(Path(settings.BASE_DIR) / "var"), help="Directory for local state (default: var/)."
        )
        parser.add_argument("--noreload", action="store_true", help="Do not restart Django on code changes.")
        parser.add_argument("--no-seed", action="store_true", help="Do not create demo content.")
        parser.add_argument(
            "--source",
            action="store_true",
            help="Serve the source tree with runserver (no package, no IAM) instead of the deployment package.",
        )

    def handle(self, *args, **options):
        stop_on_signal = StopOnSignal().install()
        ports = Ports.from_base(options["port"])
        var_dir = Path(options["var"]).resolve()
        var_dir.mkdir(parents=True, exist_ok=True)
        if os.environ.get("MYBLOG_LOCAL_STACK") != "1":
            # Settings are read from the environment at start-up: re-run with
            # the local endpoints in place so this process and its children
            # see the same configuration.
            os.environ.update(local_environment(ports, var_dir))
            if not options["source"]:
                from devstack.lambda_stack import package_environment

                os.environ.update(package_environment(ports, var_dir))
            os.execv(sys.executable, [sys.executable, *sys.argv])
        stack_class = LocalStack
        if not options["source"]:
            from devstack.lambda_stack import LambdaStack as stack_class
        stack = stack_class(var_dir, ports, reload=not options["noreload"], seed=not options["no_seed"])
        stack.check_stop = stop_on_signal.check
        try:
            stack.start()
            user, password = stack.credentials
            serving = "the source tree (runserver)" if options["source"] else "the deployment package, IAM enforced"
            self.stdout.write(
                self.style.SUCCESS(
                    "\nMyBlog is running (Ctrl-C stops everything):\n"
                    f"  Site        http://127.0.0.1:{ports.web}/\n"
                    f"  Admin       http://127.0.0.1:{ports.web}/admin/   user: {user}   password: {password}\n"
                    f"  Sent email  http://127.0.0.1:{ports.edge}/_mail/\n"
                    f"  Media edge  http://127.0.0.1:{ports.edge}/media/  (CloudFront stand-in)\n"
                    f"  DynamoDB    http://127.0.0.1:{ports.dynamodb}  (DynamoDB Local)\n"
                    f"  AWS (moto)  http://127.0.0.1:{ports.moto}\n"
                    f"  State       {var_dir}\n"
                    f"  Serving     {serving}\n"
                    "MYBLOG READY"
                )
            )
            stop_on_signal.idle()
        except KeyboardInterrupt:
            stop_on_signal.stopping = True
            self.stdout.write("\nStopping ...")
        finally:
            stop_on_signal.stopping = True  # an error, not a signal, may have brought us here
            stack.stop()
        self.stdout.write("Stopped.")
