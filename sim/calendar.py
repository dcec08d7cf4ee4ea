"""Calendar months: month 0 is ``config.start`` (YYYY-MM); events may be dated either way."""

from __future__ import annotations

import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(text: str) -> tuple[int, int]:
    """``"2024-05"`` -> ``(2024, 5)``; ValueError naming the text if it is not YYYY-MM."""
    match = _MONTH.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a calendar month: write YYYY-MM, e.g. 2027-01")
    return int(match.group(1)), int(match.group(2))


def month_index(date: str, start: str) -> int:
    """Months from ``start`` to ``date`` (0 when they are the same month; negative before)."""
    (y, m), (y0, m0) = parse(date), parse(start)
    return (y - y0) * 12 + (m - m0)


def date_of(month: int, start: str) -> str:
    """The calendar month ``month`` months after ``start``, as YYYY-MM."""
    y0, m0 = parse(start)
    total = y0 * 12 + (m0 - 1) + int(month)
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def event_month(event, start: str) -> int:
    """The month index of a scenario event given by ``month`` or by ``date``."""
    if event.date not in (None, ""):
        return month_index(event.date, start)
    return int(event.month)
