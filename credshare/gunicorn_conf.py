"""Gunicorn hooks for `credshare web` (loaded with --config python:credshare.gunicorn_conf).

With PROMETHEUS_MULTIPROC_DIR set (credshare/ops/metrics.py), every worker process writes its
metrics to files in that directory and /metrics adds them up: the files of a previous run
must go before the workers start, and a worker that exits must be marked dead so that its
live gauges stop counting.

Gunicorn's own logs go through credshare's one rule for secrets (credshare/core/redaction.py):
the access log's request line and Referer carry share, invitation, confirmation and reset
links; the error log names the path of a request that failed. With CREDSHARE_LOG_FORMAT=json
they are JSON lines like the application's.
"""

import os
import shutil
from pathlib import Path

from gunicorn.glogging import Logger

from credshare.core.redaction import RedactSecrets
from credshare.ops.logging import JsonFormatter

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


class RedactingLogger(Logger):
    """Gunicorn's logger, with RedactSecrets on its error and access logs (and the JSON
    formatter on their handlers when CREDSHARE_LOG_FORMAT=json)."""

    def setup(self, cfg):
        super().setup(cfg)
        json_format = os.environ.get("CREDSHARE_LOG_FORMAT", "text") == "json"
        for log in (self.error_log, self.access_log):
            if not any(isinstance(known, RedactSecrets) for known in log.filters):
                log.addFilter(RedactSecrets())
            if json_format:
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())


logger_class = RedactingLogger
