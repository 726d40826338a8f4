"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (an ephemeral port) that
checks every request's signature with the recipe of credshare/webhooks/README.md, answers
the statuses a test scripts, and can hold a request until the test lets it go."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from credshare.webhooks import services

README = Path(services.__file__).with_name("README.md")
# Longest a held request waits for the test to let it go: a broken test ends, never hangs.
HOLD_LIMIT = 30


def documented_recipe():
    """The receiver's signature check exactly as README.md documents it."""
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL).group(1)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 -- our own documentation
    return namespace["credshare_event_is_genuine"]


class Receiver:
    def __init__(self):
        self.is_genuine = documented_recipe()
        self.requests = []
        # Scripted answers, one per request, then 200: (status, body, extra headers).
        self.answers = []
        self.secrets = {}  # path -> the endpoint's secret, to check signatures with
        self.hold = None  # a threading.Event the handler waits for, when set
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.server = None

    def url(self, path: str = "/hooks") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def answer(self, *statuses, body: str = "", headers: dict | None = None) -> None:
        self.answers += [(status, body, headers or {}) for status in statuses]

    def trust(self, endpoint) -> None:
        """Check the requests to ENDPOINT's path with its (current) secret."""
        from urllib.parse import urlsplit

        self.secrets[urlsplit(endpoint.url).path] = endpoint.secret

    def events(self, path: str | None = None) -> list[dict]:
        return [r["json"] for r in self.requests if path is None or r["path"] == path]


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 -- the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            secret = receiver.secrets.get(self.path, "")
            with receiver.lock:
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body,
                        "json": json.loads(body),
                        "genuine": bool(secret)
                        and receiver.is_genuine(
                            secret, self.headers.get("Credshare-Signature", ""), body
                        ),
                    }
                )
                status, text, headers = (
                    receiver.answers.pop(0) if receiver.answers else (200, "ok", {})
                )
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(HOLD_LIMIT)
            payload = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    """A receiver on loopback, which endpoints may then point at (the loopback exception is
    on for this test only)."""
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = True
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    server.daemon_threads = True
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    if receiver.hold is not None:
        receiver.hold.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _no_background_sending(settings):
    # Tests attempt deliveries themselves; the tests of background sending switch this.
    settings.CREDSHARE_TASKS = "none"


@pytest.fixture
def ecole_admin(ecole):
    from credshare.core import testing

    return testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")


@pytest.fixture
def endpoint_for(receiver, ecole, ecole_admin):
    """Register an endpoint of ORGANIZATION (École by default) at the receiver."""
    from credshare.webhooks.models import Event

    def endpoint_for(organization=None, *, events=None, path=None):
        organization = organization or ecole
        endpoint = services.endpoint_create(
            organization=organization,
            url=receiver.url(path or f"/hooks/{organization.slug}"),
            events=events or list(Event.values),
            by=ecole_admin,
        )
        receiver.trust(endpoint)
        return endpoint

    return endpoint_for
