"""Start and stop the emulators: DynamoDB Local (Java) and moto server.

Each is a child process on a loopback port that dies with the process that
started it (see devstack/processes.py); `Service.stop()` waits for the
process to exit, because a killed JVM can hold its port for seconds.
"""

import os
import subprocess
import sys
import time
import urllib.request

from devstack import processes, system

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


class Service:
    def __init__(self, name, args, port, cwd=None, log_path=None):
        self.name = name
        self.args = args
        self.port = port
        self.cwd = cwd
        self.log_path = log_path
        self.process = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def spawn(self):
        """Start the process (in a session of its own, bound to this process's life)."""
        if system.port_open(self.port):
            raise RuntimeError(f"{self.name}: port {self.port} is already in use")
        # Without a log file the child shares this terminal (Django's request log).
        log = open(self.log_path, "ab") if self.log_path else None
        try:
            self.process = processes.spawn(self.args, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT)
        finally:
            if log:
                log.close()
        return self

    def wait_ready(self, timeout=60, check=None):
        """Wait until it answers HTTP; stop it if it exits, never answers, or the wait is interrupted.

        `check()`, called on every round, may raise to cut the wait short.
        """
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if check:
                    check()
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode} (see {self.log_path})")
                if self.ready():
                    return self
                time.sleep(0.2)
            raise TimeoutError(f"{self.name} was not ready in {timeout}s")
        except BaseException:
            self.stop()
            raise

    def start(self, timeout=60):
        return self.spawn().wait_ready(timeout)

    def ready(self):
        try:
            request = urllib.request.Request(self.endpoint, method="GET")
            urllib.request.urlopen(request, timeout=1)
        except urllib.error.HTTPError:
            return True  # answering HTTP at all means it is up
        except OSError:
            return False
        return True

    def stop(self, timeout=15):
        if self.process is not None:
            processes.stop(self.process, timeout)


def dynamodb_local(port, db_path=None, log_path=None):
    """AWS's DynamoDB Local: persistent under `db_path`, else in memory."""
    jar = system.dynamodb_local_jar()
    args = [
        system.java(),
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-sharedDb",
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    if db_path:
        os.makedirs(db_path, exist_ok=True)
        args += ["-dbPath", str(db_path)]
    else:
        args += ["-inMemory"]
    return Service("DynamoDB Local", args, port, cwd=jar.parent, log_path=log_path)


def moto_server(port, log_path=None):
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return Service("moto server", args, port, log_path=log_path)
