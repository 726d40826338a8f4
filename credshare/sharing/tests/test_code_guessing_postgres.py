"""Fifty wrong guesses at one access code at the same moment, on PostgreSQL where they really
run in parallel: at most five are evaluated, then the code is locked, even against the right
code."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection

from credshare.core import testing
from credshare.sharing.models import AccessCode
from credshare.sharing.services import ShareError, access_code_send, access_code_verify

THREADS = 50

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def guess_at_once(share, guesses: list[str]) -> list[tuple[str, str]]:
    """Try every guess in its own thread, all starting at the same moment. Returns what each
    gave: ("accepted", ""), ("refused", code) or ("crashed", exception)."""
    barrier = threading.Barrier(len(guesses))
    outcomes: list[tuple[str, str]] = [("missing", "")] * len(guesses)

    def guess(index: int, code: str) -> None:
        try:
            barrier.wait(timeout=30)
            access_code_verify(share=share, code=code)
            outcomes[index] = ("accepted", "")
        except ShareError as error:
            outcomes[index] = ("refused", error.code)
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = ("crashed", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=pair) for pair in enumerate(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_fifty_simultaneous_wrong_guesses_lock_the_code_after_five(settings, zoe, zoe_transcript):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    share = testing.share_by_email(zoe, [zoe_transcript], "zelda@example.org")
    access_code_send(share=share)
    [code] = re.findall(r"^\s*(\d{6})\s*$", mail.outbox[-1].body, flags=re.MULTILINE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    outcomes = guess_at_once(share, [wrong] * THREADS)

    assert [o for o in outcomes if o[0] != "refused"] == []
    codes = [error_code for _kind, error_code in outcomes]
    assert codes.count("wrong_code") <= 5
    assert codes.count("wrong_code") + codes.count("code_locked") == THREADS
    assert AccessCode.objects.get(share=share).attempts == 5
    with pytest.raises(ShareError) as refusal:
        access_code_verify(share=share, code=code)
    assert refusal.value.code == "code_locked"
    assert refusal.value.status == 429
