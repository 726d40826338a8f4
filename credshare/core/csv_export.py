"""The one way credshare writes CSV for people to open in a spreadsheet.

A cell that starts like a formula (`=HYPERLINK(...)`, `+1`, `-2+3`, `@SUM(...)`, or a tab or
carriage return before one) would be run by Excel, LibreOffice or Google Sheets on opening
(CSV injection). Such text cells get a leading apostrophe, which spreadsheets show as text
and hide. The fullwidth forms count too: some spreadsheets fold them to the ASCII ones.
Numbers are left alone: -3 is a number, not a formula.
"""

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def formula_safe(value: Any) -> Any:
    """VALUE as a spreadsheet will read it as text: None is empty, and text that starts like a
    formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """csv.writer, with every cell through formula_safe."""

    def __init__(self, stream: TextIO):
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([formula_safe(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
