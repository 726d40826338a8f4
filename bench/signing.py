"""Benchmark of sign_pdf: a PAdES B-B signature with its visible stamp on a 1-page PDF.

Uses a throw-away key store and an in-memory SQLite database; after warm-up, times RUNS
signatures one after the other on one core and prints ms per signature and signatures per
second.

    .venv/bin/python bench/signing.py [--runs 200]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    keys = tempfile.mkdtemp(prefix="credshare-bench-keys-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "credshare.settings"
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"
    os.environ["CREDSHARE_KEY_DIR"] = keys
    os.environ.pop("CREDSHARE_TSA_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from credshare.core import testing
    from credshare.documents.models import Document
    from credshare.documents.signing import sign_pdf

    issuer = testing.make_organization("bench-university", issuer=True)
    learner = testing.make_user("bench@example.org")
    document = Document(issuer=issuer, learner=learner, title="Bench", issue_date="2026-01-01")
    pdf = testing.sample_pdf("bench")
    for _ in range(10):  # warm-up: CA, issuer key, signer cache, imports
        sign_pdf(pdf=pdf, document=document, issuer=issuer)
    times = []
    start = time.perf_counter()
    for _ in range(args.runs):
        t0 = time.perf_counter()
        signed = sign_pdf(pdf=pdf, document=document, issuer=issuer)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    print(f"input {len(pdf)} bytes, signed {len(signed)} bytes, {args.runs} runs")
    print(
        f"sign_pdf: mean {total / args.runs * 1000:.1f} ms, "
        f"median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {sorted(times)[int(0.95 * len(times)) - 1] * 1000:.1f} ms, "
        f"{args.runs / total:.0f} signatures/s on one core"
    )
    shutil.rmtree(keys, ignore_errors=True)


if __name__ == "__main__":
    main()
