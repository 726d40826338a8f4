"""For tests only (imports pytest and aiosmtpd, development dependencies): a real SMTP server
on loopback, and the `smtp_server` fixture that points Django's email settings at it.

    from credshare.notifications.testing import smtp_server  # noqa: F401

    def test_something(smtp_server):
        ...  # queue an email in a transaction that commits
        [message] = smtp_server.wait_for(1)
        assert message["To"] == "someone@example.org"
        text = message.get_body(("plain",)).get_content()
"""

import socket
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class SMTPServer:
    """An SMTP server in a thread of its own, keeping every message it accepts. It can be
    stopped and started again on the same port, to play an outage."""

    def __init__(self, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        # Parsed with the modern policy (message.get_body(("plain",)).get_content() works),
        # line endings as "\n".
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:
        """The messages, once at least `count` arrived; fails the test after `timeout` s."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            if arrived:
                return list(self.messages)
        pytest.fail(
            f"expected {count} email(s) within {timeout} s, got {len(self.messages)}; "
            f"outbox: {_outbox_summary()}"
        )

    async def handle_DATA(self, server, session, envelope) -> str:
        # aiosmtpd calls this from its own thread, once the client sent a whole message.
        # SMTP carries CRLF line endings; tests read text as Python writes it, with "\n".
        content = envelope.original_content.replace(b"\r\n", b"\n")
        message = BytesParser(policy=policy.default).parsebytes(content)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


def _outbox_summary() -> str:
    """What the outbox says of the latest emails, to tell a failed attempt from no email."""
    from credshare.notifications.models import OutgoingEmail

    try:
        rows = OutgoingEmail.objects.order_by("-pk").values_list(
            "subject", "status", "attempts", "last_error"
        )[:5]
        return "; ".join(" | ".join(map(str, row)) for row in rows) or "empty"
    except Exception as error:  # no database access in this test
        return f"unreadable ({type(error).__name__})"


@pytest.fixture
def smtp_server(settings):
    """A running SMTPServer that Django sends to, delivering inline (right after commit)."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.CREDSHARE_EMAIL_DELIVERY = "inline"
    yield server
    server.stop()
