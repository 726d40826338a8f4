"""`credshare`: start the production processes (docs/deploy.md).

    credshare web          gunicorn serving credshare.wsgi (access log on stdout, secrets
                           in links redacted: credshare/gunicorn_conf.py)
    credshare worker       a Celery worker (bulk issuance; late acknowledgement, settings.py)
    credshare scheduler    Celery beat with CELERY_BEAT_SCHEDULE when CREDSHARE_TASKS=celery,
                           otherwise `deliver_webhooks --loop`, which does the same two jobs
    credshare emails       the email outbox worker, `deliver_emails --loop`
    credshare migrate      migrate, then signing_setup and credentials_backfill (idempotent)
    credshare healthcheck  GET /health/live on this machine's web process (container probes)
    credshare manage ARGS  any manage.py command

Each process replaces this one (exec), so that the container's stop signal reaches gunicorn
or Celery directly and they shut down gracefully. `--dry-run` prints the command(s) instead.
The processes read the same environment as the settings (README's table); the web server's
size comes from flags or CREDSHARE_WEB_* variables.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

SETTINGS_MODULE = "credshare.settings"


def default_workers() -> int:
    # Gunicorn's rule of thumb (2 x cores + 1), capped: each worker holds its own connections
    # to PostgreSQL, so many small containers scale better than one huge one.
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def django_command(*args: str) -> list[str]:
    # `python -m django` rather than manage.py: an installed image has no manage.py.
    return [sys.executable, "-m", "django", *args]


def web_command(options: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "credshare.wsgi:application",
        # Hooks for the metrics of several worker processes (credshare/gunicorn_conf.py).
        "--config",
        "python:credshare.gunicorn_conf",
        "--bind",
        options.bind,
        "--workers",
        str(options.workers),
        "--threads",
        str(options.threads),
        "--timeout",
        str(options.timeout),
        # The access log and the errors on stdout and stderr: the container runtime collects them.
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        # X-Forwarded-* headers are trusted only from these addresses (the TLS proxy).
        "--forwarded-allow-ips",
        options.forwarded_allow_ips,
    ]


def worker_command(options: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "credshare",
        "worker",
        "--concurrency",
        str(options.concurrency),
        "--loglevel",
        "INFO",
    ]


def tasks_backend() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.conf import settings

    return settings.CREDSHARE_TASKS


def scheduler_command(options: argparse.Namespace) -> list[str]:
    if tasks_backend() == "celery":
        # Beat keeps when each entry last ran in a file; losing it on a restart only runs the
        # (idempotent) jobs once early, so a temporary directory does.
        schedule = options.schedule_file or os.path.join(
            tempfile.gettempdir(), "credshare-celerybeat-schedule"
        )
        return [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "credshare",
            "beat",
            "--schedule",
            schedule,
            "--loglevel",
            "INFO",
        ]
    return django_command("deliver_webhooks", "--loop")


def migrate_commands() -> list[list[str]]:
    return [
        django_command("migrate", "--noinput"),
        django_command("signing_setup"),
        django_command("credentials_backfill"),
    ]


def liveness_host() -> str:
    # The probe comes from inside the container, but Django only answers host names it knows.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.conf import settings

    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return "localhost"


def healthcheck(url: str) -> int:
    request = urllib.request.Request(url, headers={"Host": liveness_host()})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 -- our URL
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"credshare healthcheck: {url}: {error}", file=sys.stderr)
        return 1


def parser() -> argparse.ArgumentParser:
    env = os.environ.get
    root = argparse.ArgumentParser(prog="credshare", description=__doc__.splitlines()[0])
    root.add_argument(
        "--dry-run", action="store_true", help="print the command(s) instead of running them"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    web = commands.add_parser("web", help="serve HTTP with gunicorn")
    web.add_argument("--bind", default=env("CREDSHARE_WEB_BIND", "127.0.0.1:8000"))
    web.add_argument(
        "--workers", type=int, default=int(env("CREDSHARE_WEB_WORKERS", str(default_workers())))
    )
    web.add_argument("--threads", type=int, default=int(env("CREDSHARE_WEB_THREADS", "4")))
    web.add_argument("--timeout", type=int, default=int(env("CREDSHARE_WEB_TIMEOUT", "30")))
    web.add_argument(
        "--forwarded-allow-ips", default=env("CREDSHARE_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
    )

    worker = commands.add_parser("worker", help="a Celery worker")
    worker.add_argument(
        "--concurrency", type=int, default=int(env("CREDSHARE_WORKER_CONCURRENCY", "2"))
    )

    scheduler = commands.add_parser("scheduler", help="periodic jobs (webhook retries, expiry)")
    scheduler.add_argument("--schedule-file", default=env("CREDSHARE_BEAT_SCHEDULE_FILE", ""))

    commands.add_parser("emails", help="the email outbox worker")
    commands.add_parser("migrate", help="migrate, signing_setup, credentials_backfill")

    probe = commands.add_parser("healthcheck", help="exit 0 when the web process is live")
    probe.add_argument(
        "--url",
        default=f"http://127.0.0.1:{env('CREDSHARE_WEB_PORT', '8000')}/health/live",
    )

    manage = commands.add_parser("manage", help="a manage.py command")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    return root


def commands_for(options: argparse.Namespace) -> list[list[str]]:
    match options.command:
        case "web":
            return [web_command(options)]
        case "worker":
            return [worker_command(options)]
        case "scheduler":
            return [scheduler_command(options)]
        case "emails":
            return [django_command("deliver_emails", "--loop")]
        case "migrate":
            return migrate_commands()
        case "manage":
            return [django_command(*options.args)]
    raise AssertionError(options.command)


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if options.command == "healthcheck":
        if options.dry_run:
            print(f"GET {options.url} (Host: {liveness_host()})")
            return 0
        return healthcheck(options.url)
    commands = commands_for(options)
    if options.dry_run:
        for command in commands:
            print(shlex.join(command))
        return 0
    *steps, last = commands
    for command in steps:
        completed = subprocess.run(command, check=False)  # noqa: S603 -- our own commands
        if completed.returncode:
            return completed.returncode
    sys.stdout.flush()
    os.execv(last[0], last)  # noqa: S606 -- our own command, replacing this process


if __name__ == "__main__":
    sys.exit(main())
