"""The sane range of each kind of date (credshare.core.ranges), its boundaries, day arithmetic
that cannot overflow whatever day was stored, and integer lists past what a column holds."""

import datetime

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from credshare.core import ranges
from credshare.core.ranges import DateOutOfRange
from credshare.documents.models import Document

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def refusal(check, *args, **kwargs) -> str | None:
    """The code CHECK refuses with, or None when it accepts."""
    try:
        check(*args, **kwargs)
    except DateOutOfRange as error:
        assert str(error.message)
        return error.code
    return None


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (None, None),
        (TODAY - DAY, "expiry_past"),
        (TODAY, None),
        (TODAY + DAY, None),
        (ranges.years_after(TODAY, 2), None),
        (ranges.years_after(TODAY, 2) + DAY, "expiry_too_far"),
        (datetime.date.max, "expiry_too_far"),
        (datetime.date.min, "expiry_past"),
    ],
)
def test_a_share_expires_from_today_to_two_years_ahead(day, code):
    assert refusal(ranges.check_share_expiry, day) == code


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (TODAY, None),
        (TODAY - DAY, None),
        (TODAY + DAY, "issue_date_future"),
        (datetime.date.max, "issue_date_future"),
        (ranges.EARLIEST_DAY, None),
        (ranges.EARLIEST_DAY - DAY, "issue_date_too_old"),
        (datetime.date.min, "issue_date_too_old"),
    ],
)
def test_a_document_is_issued_today_or_before_but_not_before_1900(day, code):
    assert refusal(ranges.check_issue_date, day) == code


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (None, None),
        (TODAY, None),
        (TODAY - DAY, "valid_until_before_issue_date"),
        (ranges.years_after(TODAY, 100), None),
        (ranges.years_after(TODAY, 100) + DAY, "valid_until_too_far"),
        (datetime.date.max, "valid_until_too_far"),
    ],
)
def test_a_document_is_valid_from_its_issue_date_to_a_hundred_years_ahead(day, code):
    assert refusal(ranges.check_valid_until, day, issue_date=TODAY) == code


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (None, None),
        (ranges.EARLIEST_DAY, None),
        (ranges.EARLIEST_DAY - DAY, "date_out_of_range"),
        (ranges.years_after(TODAY, 100), None),
        (ranges.years_after(TODAY, 100) + DAY, "date_out_of_range"),
        (datetime.date.min, "date_out_of_range"),
        (datetime.date.max, "date_out_of_range"),
    ],
)
def test_a_searched_day_lies_between_1900_and_a_hundred_years_ahead(day, code):
    assert refusal(ranges.check_any_day, day) == code


@pytest.mark.parametrize(
    ("moment", "code"),
    [
        (timezone.now(), None),
        (datetime.datetime(2000, 1, 1), None),  # naive: read as UTC
        (datetime.datetime(1899, 12, 31, tzinfo=datetime.UTC), "date_out_of_range"),
        (
            datetime.datetime.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=14))),
            "date_out_of_range",
        ),
        (
            datetime.datetime.max.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-12))),
            "date_out_of_range",
        ),
    ],
)
def test_a_moment_in_a_query_lies_between_1900_and_a_hundred_years_ahead(moment, code):
    assert refusal(ranges.check_moment, moment) == code


def test_years_after_keeps_the_day_or_takes_the_28th_of_february_or_the_calendars_end():
    assert ranges.years_after(datetime.date(2024, 2, 29), 2) == datetime.date(2026, 2, 28)
    assert ranges.years_after(datetime.date(2025, 5, 6), 2) == datetime.date(2027, 5, 6)
    assert ranges.years_after(datetime.date(9990, 1, 1), 100) == datetime.date.max


@given(st.dates())
def test_every_day_has_an_end_that_can_be_written_in_utc(day):
    end = ranges.end_of_day(day)

    assert timezone.is_aware(end)
    assert end.astimezone(datetime.UTC).year >= 1
    if day < datetime.date(9999, 12, 29):
        assert timezone.localtime(end).date() == day + DAY
        assert timezone.localtime(end).time() == datetime.time.min


@given(st.dates())
def test_every_day_has_a_next_day_or_is_the_last(day):
    after = ranges.day_after(day)

    assert after == (day if day == datetime.date.max else day + DAY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ids",
    [[99999999999999999999], [2**63], [-(2**63) - 1], [-5, 2**64], ["99999999999999999999"]],
)
def test_a_list_of_ids_past_what_a_column_holds_finds_nothing_instead_of_failing(
    ids, zoe_transcript
):
    found = Document.objects.filter(pk__in=ids + [zoe_transcript.pk])

    assert list(found) == [zoe_transcript]
    assert not Document.objects.filter(pk__in=ids).exists()
