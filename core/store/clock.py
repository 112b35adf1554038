"""One timestamp format everywhere, so timestamps sort as text and exports are byte-stable."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


def iso_utc(value: str | datetime | date) -> str:
    """Normalise to `2026-11-29T03:40:45.123Z`.

    Naive values are taken as UTC because the app never stores local time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
