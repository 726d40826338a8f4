"""Paging a list too long to count on every view.

Django's Paginator counts every row to know the number of pages: for an organization's
inbox of 100,000 shares that COUNT(*) reads every entry of its index on each page view
(bench/load.py: 27-59 ms of an 85-180 ms page). An uncounted page reads one row more than it
shows instead, which says whether there is a next page, and is numbered like a counted one
(`?page=3`), so _pagination.html renders both; only "of N pages" is left out.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

# Far past any real list; keeps the OFFSET of a made-up `?page=` inside the database's range.
MAX_PAGE = 1_000_000


@dataclass
class UncountedPage:
    object_list: list
    number: int
    _has_next: bool
    # Read by _pagination.html, which says "of N" only for a counted page.
    paginator = None

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _page_number(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= MAX_PAGE else 1


def uncounted_page(queryset: QuerySet, number, per_page: int) -> UncountedPage:
    """Page NUMBER (as given in the URL) of QUERYSET, which must be ordered. A number that is
    not a page, or a page past the end (the list may have shrunk), gives the first page, as
    nothing cheap tells where the last page is."""
    number = _page_number(number)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    if not rows and number > 1:
        return uncounted_page(queryset, 1, per_page)
    return UncountedPage(rows[:per_page], number, len(rows) > per_page)
