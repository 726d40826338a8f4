"""Gunicorn hooks for `credshare web` (loaded with --config python:credshare.gunicorn_conf).

With PROMETHEUS_MULTIPROC_DIR set (credshare/ops/metrics.py), every worker process writes its
metrics to files in that directory and /metrics adds them up: the files of a previous run
must go before the workers start, and a worker that exits must be marked dead so that its
live gauges stop counting.
"""

import os
import shutil
from pathlib import Path

# Gunicorn 27's control socket (a Unix socket in the user's home, one fixed path) is not
# used here, and two servers on one host (two ports, as in the tests) would both claim it.
control_socket_disable = True


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
