"""Helpers for tests that run credshare's real processes (gunicorn, Celery workers) beside
the test process: whether Redis answers, the database URL a child process connects to, a
free loopback port, starting a process in its own group and killing it, and waiting for a
condition while watching that the processes are still alive. Not used by the product; free
of Django, so that a script can use it before settings are configured."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

# The Redis on this machine (README, "Tests"); a test takes a database number of its own.
REDIS_HOST = "redis://127.0.0.1:6379"


def require_redis(url: str) -> None:
    """Skip unless Redis answers at URL; under CI (REQUIRE_ALL_ENV set) fail instead."""
    import pytest
    import redis

    from credshare.core.testing import REQUIRE_ALL_ENV

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        message = (
            f"needs Redis at {url} ({error}; Debian package redis-server: "
            "apt-get install -y redis-server)"
        )
        if os.environ.get(REQUIRE_ALL_ENV):
            pytest.fail(message)
        pytest.skip(message)


def database_url(settings_dict: dict, *, name: str | None = None) -> str:
    """A DATABASE_URL for the PostgreSQL server of SETTINGS_DICT (a Django DATABASES entry),
    naming its database or NAME, for a child process to connect to."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    database = quote(name or settings_dict["NAME"], safe="")
    return f"postgres://{credentials}@{host}{port}/{database}"


def free_port() -> int:
    """A TCP port free on loopback now (the OS picks it; a race with another process binding
    it first is possible but unlikely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment_without_ours() -> dict:
    """This process's environment without credshare's settings, for a child process that is
    given its own (the test's DATABASE_URL and CREDSHARE_* must not leak into it)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CREDSHARE_", "DATABASE_URL", "DJANGO_"))
    }


def start(command: list[str], *, env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    """Start COMMAND with its output appended to LOG, in its own process group, so that
    kill() reaches the process and its children (gunicorn's and Celery's workers) at once."""
    with open(log, "ab") as output:
        return subprocess.Popen(  # noqa: S603 -- the tests' own command lines
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL PROCESS's whole group, with no warning (a machine or container dying)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(*processes: subprocess.Popen) -> None:
    """Stop the PROCESSES' groups gracefully (SIGTERM, all at once), killing any still there
    after 10 s."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill(process)


def tail(logs: Iterable[Path], size: int = 4000) -> str:
    return "\n".join(
        f"--- {log.name}:\n{log.read_text(errors='replace')[-size:]}"
        for log in logs
        if log.exists()
    )


def wait_for(
    condition: Callable[[], object],
    *,
    what: str,
    logs: Iterable[Path],
    processes: Iterable[subprocess.Popen] = (),
    timeout: float = 45,
):
    """CONDITION()'s first true value, polled every 0.1 s. Fails the test after TIMEOUT
    seconds, or at once when one of PROCESSES has exited, showing the end of LOGS."""
    import pytest

    logs, processes = list(logs), list(processes)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        exited = [process for process in processes if process.poll() is not None]
        if exited:
            codes = ", ".join(str(process.returncode) for process in exited)
            pytest.fail(f"a process exited ({codes}) while waiting for {what}:\n{tail(logs)}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{tail(logs)}")
