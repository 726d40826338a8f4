"""The sane range of every date a person or a program gives credshare, stated once, and day
arithmetic that cannot leave Python's calendar.

Python's dates end at 9999-12-31: a share that expires that day has no "end of the day", and
a moment near either end of the calendar cannot be moved to UTC. A value out of range must
be refused where it comes in (the forms, the bulk rows, the API's schemas, the services, all
through the `check_*` functions here), and a value stored before these checks (or by the
admin) must still render: `day_after` and `end_of_day` saturate instead of overflowing.

Each `check_*` raises `DateOutOfRange`, an ApplicationError with a stable code and a
translated message; a form turns it into a field error (`form_check`), the API's schemas into
a validation error of that code (credshare.api.schemas.in_range; a service's refusal goes
through the API's ApplicationError handler), a bulk row into its rejection reason.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from credshare.core.errors import ApplicationError

# No record, credential or search of ours needs an earlier day.
EARLIEST_DAY = datetime.date(1900, 1, 1)
# A share's expiry date: from today (it works until the end of that day) to this many years
# ahead. A learner who wants longer leaves the date out: the share then never expires.
SHARE_EXPIRY_YEARS = 2
# A document's "valid until": on or after its issue date, at most this many years ahead.
VALIDITY_YEARS = 100
# Days typed into searches and free-form date fields: EARLIEST_DAY to this many years ahead.
ANY_DAY_YEARS = 100
# The last day whose next day, at midnight in any time zone, is still a moment Python (and
# both databases) can hold in UTC.
_LAST_DAY_WITH_AN_END = datetime.date.max - datetime.timedelta(days=2)
# A moment (a filter, a cursor) must lie between these, in UTC.
EARLIEST_MOMENT = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)


class DateOutOfRange(ApplicationError):
    """A date outside its sane range: `code` names the rule, `field` the input."""

    status = 400


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def years_after(day: datetime.date, years: int) -> datetime.date:
    """The same day YEARS later (28 February for a 29 February that has none), or the
    calendar's last day."""
    year = day.year + years
    if year > datetime.MAXYEAR:
        return datetime.date.max
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def day_after(day: datetime.date) -> datetime.date:
    """The next day; the calendar's last day has none, and stays itself."""
    return day if day >= datetime.date.max else day + datetime.timedelta(days=1)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after DAY ends, in the platform's time zone. For the calendar's last
    days (stored before their dates were checked), a moment two days before the calendar
    ends: later ones cannot be written in UTC."""
    next_day = day_after(min(day, _LAST_DAY_WITH_AN_END))
    return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))


def latest_moment() -> datetime.datetime:
    """The last moment a filter or a cursor may name: the end of ANY_DAY_YEARS from now."""
    return end_of_day(years_after(timezone.localdate(), ANY_DAY_YEARS))


# --- the ranges -------------------------------------------------------------------------------


def share_expiry_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The first and last days a share's expiry date may be set to."""
    today = today or timezone.localdate()
    return today, years_after(today, SHARE_EXPIRY_YEARS)


def check_share_expiry(day: datetime.date | None, *, field: str = "expires_on") -> None:
    """A share's expiry date: none (it never expires), or today to SHARE_EXPIRY_YEARS ahead."""
    if day is None:
        return
    first, last = share_expiry_range()
    if day < first:
        raise DateOutOfRange(
            _("The expiry date cannot be in the past."), code="expiry_past", field=field
        )
    if day > last:
        raise DateOutOfRange(
            _(
                "The expiry date can be at most %(years)d years from today (%(last)s at the "
                "latest). For a share that never expires, leave the date out."
            )
            % {"years": SHARE_EXPIRY_YEARS, "last": _day(last)},
            code="expiry_too_far",
            field=field,
        )


def check_issue_date(day: datetime.date, *, field: str = "issue_date") -> None:
    """A document's issue date: from EARLIEST_DAY to today, never in the future (its
    credential would not be valid yet)."""
    if day > timezone.localdate():
        raise DateOutOfRange(
            _("The issue date cannot be in the future."), code="issue_date_future", field=field
        )
    if day < EARLIEST_DAY:
        raise DateOutOfRange(
            _("The issue date cannot be before %(first)s.") % {"first": _day(EARLIEST_DAY)},
            code="issue_date_too_old",
            field=field,
        )


def check_valid_until(
    day: datetime.date | None, *, issue_date: datetime.date | None, field: str = "valid_until"
) -> None:
    """A document's last valid day: none, or from its issue date to VALIDITY_YEARS ahead."""
    if day is None:
        return
    if issue_date is not None and day < issue_date:
        raise DateOutOfRange(
            _("A document cannot expire before it is issued."),
            code="valid_until_before_issue_date",
            field=field,
        )
    last = years_after(timezone.localdate(), VALIDITY_YEARS)
    if day > last:
        raise DateOutOfRange(
            _("The last valid day can be at most %(years)d years from today (%(last)s).")
            % {"years": VALIDITY_YEARS, "last": _day(last)},
            code="valid_until_too_far",
            field=field,
        )


def check_any_day(day: datetime.date | None, *, field: str | None = None) -> None:
    """A day typed into a search or a free-form date field: EARLIEST_DAY to ANY_DAY_YEARS
    ahead."""
    if day is None:
        return
    last = years_after(timezone.localdate(), ANY_DAY_YEARS)
    if not EARLIEST_DAY <= day <= last:
        raise DateOutOfRange(
            _("Enter a date between %(first)s and %(last)s.")
            % {"first": _day(EARLIEST_DAY), "last": _day(last)},
            code="date_out_of_range",
            field=field,
        )


def check_moment(moment: datetime.datetime | None, *, field: str | None = None) -> None:
    """A moment given in a query (an aware datetime): EARLIEST_MOMENT to latest_moment()."""
    if moment is None:
        return
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    # The day first: a moment at either edge of the calendar cannot be compared in UTC.
    in_range = (
        EARLIEST_MOMENT.date() < moment.date() < _LAST_DAY_WITH_AN_END
        and EARLIEST_MOMENT <= moment <= latest_moment()
    )
    if not in_range:
        raise DateOutOfRange(
            _("Give a moment between %(first)s and %(last)s.")
            % {"first": _day(EARLIEST_DAY), "last": _day(latest_moment().date())},
            code="date_out_of_range",
            field=field,
        )


# --- for forms --------------------------------------------------------------------------------


def form_check(check, value, **kwargs):
    """VALUE when CHECK (one of the checks above) passes; else the ValidationError a form
    shows next to the field."""
    try:
        check(value, **kwargs)
    except DateOutOfRange as error:
        raise ValidationError(error.message, code=error.code) from None
    return value


class AnyDayField(forms.DateField):
    """A date typed into a search or a free-form field: refused outside check_any_day's
    range."""

    def validate(self, value):
        super().validate(value)
        form_check(check_any_day, value)
