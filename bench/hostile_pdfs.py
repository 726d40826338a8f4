"""Benchmark of hostile PDFs against a real server (issue 14): each file of the corpus
(`credshare.core.testing_pdfs.HOSTILE_PDFS`), then genuine files, sent to `credshare web`
(gunicorn, one worker so that it gets every request) on loopback, through the anonymous
POST /pdfs/verify and the issuing API's POST /api/v1/documents. For each: the wall time of
the request, the answer (status, error code), and the server's memory: the resident set of
the whole process tree (gunicorn's master and worker, the sandbox's zygote and workers),
sampled every 5 ms during the request (peak) and read after it, as growth over the tree
before the request. Targets: every file answered in under 3 s, growth under 100 MB.

    .venv/bin/python bench/hostile_pdfs.py [--rounds 1] [--out bench/results/hostile_pdfs.json]

A throwaway SQLite database and key store in a temporary folder; see bench/README.md.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import REPO, code_version, cpu_model, throwaway_database
from common import configure_django as common_configure_django

DEFAULT_OUT = str(REPO / "bench" / "results" / "hostile_pdfs.json")
TARGET_SECONDS = 3.0
TARGET_GROWTH_MB = 100.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each file is sent")
    parser.add_argument("--out", default=DEFAULT_OUT)
    return parser.parse_args()


def configure_django(database_url: str, tmp_dir: Path) -> dict:
    """common.configure_django for a server that answers the API at any rate, then migrate."""
    environment = common_configure_django(
        database_url,
        tmp_dir,
        CREDSHARE_EMAIL_DELIVERY="worker",
        CREDSHARE_API_RATE_LIMIT="100000",
        PYTHONPATH=str(REPO),
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return environment


def seed() -> tuple[str, bytes]:
    """An issuer with an API key, and a document it issued: (the key, the signed PDF)."""
    from credshare.api.models import ApiKey
    from credshare.api.services import api_key_create
    from credshare.core import testing

    issuer = testing.make_organization("bench-university", issuer=True, sharing_is_free=True)
    learner = testing.make_user("learner@bench.example", "Bench Learner")
    document = testing.make_document(learner, issuer)
    _model, key = api_key_create(
        organization=issuer, name="bench", scopes=list(ApiKey.ISSUING_SCOPES), by=None
    )
    with document.versions.get().file.open("rb") as handle:
        return key, handle.read()


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    # This tree's credshare, whatever the virtual environment's console script points at.
    command = [sys.executable, "-m", "credshare.cli", "web", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--threads", "4"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=REPO)  # noqa: S603
    deadline = time.monotonic() + 120
    while request(port, "GET", "/health/live")[0] != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start: see {log}")
        time.sleep(0.2)
    return process


def request(port: int, method: str, path: str, body: bytes = b"", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def tree(root: int) -> list[int]:
    """ROOT and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def tree_rss(root: int) -> int:
    total = 0
    for pid in tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakSampler(threading.Thread):
    def __init__(self, root: int, start: int):
        super().__init__(daemon=True)
        self.root = root
        self.peak = start
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, tree_rss(self.root))
            time.sleep(0.005)


# --- one file ----------------------------------------------------------------------------------


def send(port: int, key: str, endpoint: str, data: bytes):
    if endpoint == "verify":
        return request(port, "POST", "/pdfs/verify", data, {"Content-Type": "application/pdf"})
    body = json.dumps(
        {
            "learner_email": "learner@bench.example",
            "type": "certificate",
            "title": "Bench",
            "issue_date": "2026-05-04",
            "pdf_base64": base64.b64encode(data).decode(),
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    return request(port, "POST", "/api/v1/documents", body, headers)


def measure(server: subprocess.Popen, port: int, key: str, endpoint: str, data: bytes) -> dict:
    time.sleep(0.3)  # a replacement worker forked after the previous file settles
    before = tree_rss(server.pid)
    sampler = PeakSampler(server.pid, before)
    sampler.start()
    started = time.perf_counter()
    status, body = send(port, key, endpoint, data)
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    after = tree_rss(server.pid)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    error = answer.get("error") or {}
    code = (error.get("details") or [{}])[0].get("code") or error.get("code")
    if not error:
        code = "verified" if answer.get("verified") else answer.get("status", "")
    return {
        "status": status,
        "code": code,
        "seconds": round(seconds, 3),
        "growth_peak_mb": round((max(sampler.peak, after) - before) / 2**20, 1),
        "growth_after_mb": round((after - before) / 2**20, 1),
        "tree_mb_before": round(before / 2**20, 1),
    }


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()
    with throwaway_database(database="sqlite", postgres_url="", prefix="bench-hostile-") as (
        url,
        tmp_dir,
    ):
        configure_django(url, tmp_dir)
        key, signed = seed()
        from credshare.core.testing_pdfs import HOSTILE_PDFS, hostile_pdf, ordinary_pdf

        files = {name: hostile_pdf(name) for name in HOSTILE_PDFS}
        genuine = {
            "genuine: our signed transcript": signed,
            "genuine: ordinary 12 pages": ordinary_pdf(),
        }
        port = free_port()
        server = start_server(port, tmp_dir / "server.log")
        try:
            for _ in range(3):  # warm up: the first requests import, and start the sandbox
                send(port, key, "verify", signed)
                send(port, key, "api", ordinary_pdf())
            results = []
            for round_number in range(args.rounds):
                for name, data in {**files, **genuine}.items():
                    for endpoint in ("verify", "api"):
                        row = {"file": name, "bytes": len(data), "endpoint": endpoint}
                        row.update(measure(server, port, key, endpoint, data))
                        row["round"] = round_number + 1
                        results.append(row)
                        print(
                            f"{name:32} {len(data):>9} B {endpoint:6} {row['status']} "
                            f"{row['code'] or '':14} {row['seconds']:6.2f} s "
                            f"peak +{row['growth_peak_mb']:6.1f} MB "
                            f"after +{row['growth_after_mb']:6.1f} MB",
                            flush=True,
                        )
        finally:
            server.terminate()
            server.wait(30)
    worst_seconds = max(row["seconds"] for row in results)
    worst_growth = max(row["growth_peak_mb"] for row in results)
    report = {
        "benchmark": "hostile_pdfs",
        "code": code_version(),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(value, 2) for value in load_before],
            "load_after": [round(value, 2) for value in os.getloadavg()],
        },
        "server": "credshare web: gunicorn, 1 worker x 4 threads, SQLite",
        "results": results,
        "worst_seconds": worst_seconds,
        "worst_growth_peak_mb": worst_growth,
        "targets": {"seconds": TARGET_SECONDS, "growth_mb": TARGET_GROWTH_MB},
        "met": worst_seconds < TARGET_SECONDS and worst_growth < TARGET_GROWTH_MB,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"worst: {worst_seconds:.2f} s (target < {TARGET_SECONDS}), peak growth "
        f"{worst_growth:.1f} MB (target < {TARGET_GROWTH_MB}); load "
        f"{report['machine']['load_before']} -> {report['machine']['load_after']}; {out}"
    )


if __name__ == "__main__":
    main()
