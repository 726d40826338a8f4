"""The production profile, the `credshare` command and the compose file (docs/deploy.md).

Settings are read once per process, so the profile is tested in subprocesses with the
environment a production host would set. No Docker engine runs here: the compose file is
checked as YAML and against the variables the code reads, not started.
"""

import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string

from credshare import cli
from credshare.core import testing_processes

ROOT = Path(__file__).resolve().parents[3]


def production_env(tmp_path, **extra) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CREDSHARE_", "DATABASE_URL", "DJANGO_"))
    }
    environment.update(
        CREDSHARE_PROFILE="production",
        CREDSHARE_SECRET_KEY=secrets.token_urlsafe(50)[:50],
        CREDSHARE_ALLOWED_HOSTS="credshare.example.org",
        CREDSHARE_PROXY_SSL_HEADER="1",
        CREDSHARE_CACHE_URL="redis://127.0.0.1:6379/1",
        CREDSHARE_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
    )
    environment.update(extra)
    return environment


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "credshare.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_settings(names: list[str], env: dict) -> dict[str, str]:
    code = "from django.conf import settings\n" + "".join(
        f"print('{name}=' + str(settings.{name}))\n" for name in names
    )
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def test_production_profile_passes_the_deploy_check(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_demo_profile_fails_the_deploy_check(tmp_path):
    # The check is not vacuous: the same host without the profile gets the warnings.
    environment = production_env(tmp_path)
    del environment["CREDSHARE_PROFILE"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=environment)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


@pytest.mark.parametrize("key", [None, "insecure-demo-key-set-CREDSHARE_SECRET_KEY-in-production"])
def test_production_refuses_to_start_without_a_secret_key_of_its_own(tmp_path, key):
    environment = production_env(tmp_path)
    del environment["CREDSHARE_SECRET_KEY"]
    if key:
        environment["CREDSHARE_SECRET_KEY"] = key
    result = manage("check", env=environment)
    assert result.returncode != 0
    assert "CREDSHARE_SECRET_KEY" in result.stderr


def test_production_defaults_and_sessions_any_web_process_can_serve(tmp_path):
    names = [
        "DEBUG",
        "CREDSHARE_TASKS",
        "CREDSHARE_EMAIL_DELIVERY",
        "SESSION_ENGINE",
        "SECURE_PROXY_SSL_HEADER",
    ]
    assert read_settings(names, production_env(tmp_path, CREDSHARE_DEBUG="1")) == {
        "DEBUG": "False",
        "CREDSHARE_TASKS": "celery",
        "CREDSHARE_EMAIL_DELIVERY": "worker",
        "SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    }


def test_an_unknown_profile_is_refused(tmp_path):
    result = manage("check", env=production_env(tmp_path, CREDSHARE_PROFILE="prod"))
    assert result.returncode != 0
    assert "CREDSHARE_PROFILE" in result.stderr


def test_the_silenced_csrf_check_is_covered_by_our_subclass():
    # security.W003 is silenced because it looks for Django's class by name only.
    assert "security.W003" in settings.SILENCED_SYSTEM_CHECKS
    assert any(issubclass(import_string(path), CsrfViewMiddleware) for path in settings.MIDDLEWARE)


def test_pages_refuse_framing_but_the_pdf_viewer_frames_its_own_pdf(client, zoe, zoe_transcript):
    client.force_login(zoe)
    assert client.get("/documents/").headers["X-Frame-Options"] == "DENY"
    pdf = client.get(f"/documents/{zoe_transcript.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN"


def dry_run(capsys, *args: str) -> list[list[str]]:
    assert cli.main(["--dry-run", *args]) == 0
    return [shlex.split(line) for line in capsys.readouterr().out.splitlines()]


def test_web_takes_its_size_from_flags_then_environment(capsys, monkeypatch):
    monkeypatch.setenv("CREDSHARE_WEB_WORKERS", "3")
    [command] = dry_run(capsys, "web", "--bind", "0.0.0.0:9000", "--threads", "8")
    assert command[1:4] == ["-m", "gunicorn", "credshare.wsgi:application"]
    assert command[command.index("--bind") + 1] == "0.0.0.0:9000"
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--threads") + 1] == "8"
    assert command[command.index("--access-logfile") + 1] == "-"


def test_scheduler_is_celery_beat_or_the_webhook_loop(capsys, settings):
    settings.CREDSHARE_TASKS = "celery"
    [beat] = dry_run(capsys, "scheduler")
    assert beat[1:6] == ["-m", "celery", "--app", "credshare", "beat"]
    settings.CREDSHARE_TASKS = "inline"
    [loop] = dry_run(capsys, "scheduler")
    assert loop[1:] == ["-m", "django", "deliver_webhooks", "--loop"]


def test_worker_migrate_emails_and_manage(capsys):
    [worker] = dry_run(capsys, "worker", "--concurrency", "4")
    assert worker[1:5] == ["-m", "celery", "--app", "credshare"]
    assert worker[worker.index("--concurrency") + 1] == "4"
    steps = dry_run(capsys, "migrate")
    assert [step[3] for step in steps] == ["migrate", "signing_setup", "credentials_backfill"]
    [emails] = dry_run(capsys, "emails")
    assert emails[3:] == ["deliver_emails", "--loop"]
    [passthrough] = dry_run(capsys, "manage", "createsuperuser", "--email", "a@example.org")
    assert passthrough[3:] == ["createsuperuser", "--email", "a@example.org"]


def test_an_unknown_subcommand_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_credshare_web_serves_pages_with_gunicorn(tmp_path):
    """The real thing: migrate a SQLite file, start gunicorn on loopback, GET the sign-in page."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CREDSHARE_", "DATABASE_URL"))
    }
    environment.update(
        CREDSHARE_VAR_DIR=str(tmp_path),
        CREDSHARE_TASKS="none",
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
    )
    # A previous run's metrics files, which the gunicorn hooks clear before workers start.
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_12345.db").write_bytes(b"stale")
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    migrated = manage("migrate", "--noinput", env=environment)
    assert migrated.returncode == 0, migrated.stderr
    port = testing_processes.free_port()
    credshare = Path(sys.executable).with_name("credshare")
    server = subprocess.Popen(  # noqa: S603
        [credshare, "web", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        login_url = f"http://127.0.0.1:{port}/accounts/login/"
        while body is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(login_url, timeout=5) as r:  # noqa: S310
                    assert r.status == 200
                    body = r.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body is not None, "gunicorn did not answer"
        assert 'name="password"' in body
        # The container's HEALTHCHECK command, against this server.
        probe = subprocess.run(  # noqa: S603
            [credshare, "healthcheck", "--url", f"http://127.0.0.1:{port}/health/live"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert probe.returncode == 0, probe.stderr
        assert not (metrics / "counter_12345.db").exists()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    # gunicorn's access log goes to stdout, one line per request.
    assert re.search(r'"GET /accounts/login/ HTTP/1\.1" 200', output), output


COMPOSE = ROOT / "compose.yaml"


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_file_has_every_process():
    services = compose_services()
    assert {"web", "worker", "scheduler", "emails", "migrate", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    commands = {name: services[name].get("command") for name in services}
    assert commands["worker"] == ["credshare", "worker"]
    assert commands["scheduler"] == ["credshare", "scheduler"]
    assert commands["migrate"] == ["credshare", "migrate"]


def test_every_variable_compose_sets_is_read_by_the_code():
    # A misspelt variable in the compose file would be silently ignored; compare with what
    # settings.py (and cli.py, the process sizes; ops/metrics.py, the metrics directory) read.
    read = "".join(
        (ROOT / "credshare" / name).read_text()
        for name in ["settings.py", "cli.py", "ops/metrics.py"]
    )
    compose = yaml.safe_load(COMPOSE.read_text())
    ours = [
        service
        for service in compose["services"].values()
        if service.get("image", "").startswith("credshare") or "build" in service
    ]
    anchors = compose.get("x-credshare-env", {})
    names = set(anchors)
    for service in ours:
        names |= set(service.get("environment") or {})
    assert names, "no environment found in compose.yaml"
    unread = sorted(name for name in names if f'"{name.removesuffix("_FILE")}"' not in read)
    assert unread == []
