"""The Celery app that runs bulk issuance jobs in production (CREDSHARE_TASKS=celery).

Start workers with `celery -A credshare worker --concurrency 2`. The configuration is Django's
settings named CELERY_* (credshare/settings.py): the broker (CREDSHARE_CELERY_BROKER_URL),
late acknowledgement and one task prefetched at a time, so that a task whose worker dies is
run again by another worker. The tasks live in each app's `tasks.py`.

Importing this module connects to nothing: the broker is reached when a task is sent or a
worker starts. `credshare/__init__.py` does not import it, so Django runs without Celery
configured (the embedded default runs jobs in a thread instead).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credshare.settings")

app = Celery("credshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
