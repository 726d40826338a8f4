"""credshare: an open credential wallet and sharing network.

The Celery app is `credshare.celery.app` (`celery -A credshare worker` finds it there). It is
not imported here: the tasks import it themselves (credshare/documents/tasks.py), so a process
that never sends a task never loads Celery.
"""
