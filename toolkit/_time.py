"""Time values given as parameters: an ISO 8601 string or an aware datetime, as UTC.

A neutral module: analyses and the report helpers both use it.
"""

from __future__ import annotations

import datetime as dt

from toolkit.errors import ParameterError, preview


def utc(value: str | dt.datetime, *, name: str = "time") -> dt.datetime:
    """A notebook parameter's point in time as an aware UTC datetime; the zone is required.

    Parameters
    ----------
    value : str or datetime
        ISO-8601 text with its zone (``"2026-11-02T00:00:00Z"``, ``"...+01:00"``) or an
        aware datetime. A time without a zone is refused, never guessed.
    name : str, default "time"
        The parameter's name, for the error message.

    Returns
    -------
    datetime.datetime
        In UTC.

    Examples
    --------
    >>> utc("2026-11-02T01:00:00+01:00", name="start")
    datetime.datetime(2026, 11, 2, 0, 0, tzinfo=datetime.timezone.utc)
    >>> utc("2026-11-02T01:00:00", name="start")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'start' parameter must be an ISO-8601 time ...
    """
    problem = (
        f"The {name!r} parameter must be an ISO-8601 time with its zone (Z or +hh:mm). "
        f"Got {preview(value)} instead."
    )
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(problem) from None
    else:
        raise ParameterError(problem)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ParameterError(problem)
    return moment.astimezone(dt.UTC)
