"""What :mod:`toolkit.scale` and its analyses (:mod:`toolkit._scale_stats`) share: the
tables a store holds, their time columns, and the checks of the common parameters.

A module of its own because ``toolkit.scale`` imports ``toolkit._scale_stats`` at import
time, so the latter cannot import these from the former.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from toolkit.errors import ParameterError, preview
from toolkit.schema import LOGS, METRICS, SPANS, Table

TableName = Literal["spans", "logs", "metrics"]
TABLES: dict[str, Table] = {"spans": SPANS, "logs": LOGS, "metrics": METRICS}
#: The column a store partitions by day and filters ``start``/``end`` on, per table.
TIME = {"spans": "start_time", "logs": "time", "metrics": "time"}


def check_table(table: object, function: str) -> Table:
    """The canonical table named by ``table`` ("spans", "logs" or "metrics").

    Examples
    --------
    >>> check_table("logs", "scan").name
    'logs'
    """
    if not isinstance(table, str) or table not in TABLES:
        raise ParameterError(
            f"The 'table' parameter of {function} must be one of 'spans', 'logs' or "
            f"'metrics'. Got {preview(table)} instead."
        )
    return TABLES[table]


def check_filters(filters: object, function: str) -> dict[str, Any]:
    """``filters`` checked: ``service_name`` as a list of strings, ``start``/``end`` as UTC
    datetimes; keys whose value is None are left out.

    Examples
    --------
    >>> import datetime as dt
    >>> check_filters({"service_name": "api", "end": None}, "scan")
    {'service_name': ['api']}
    """
    if filters is None:
        return {}
    if not isinstance(filters, Mapping) or set(filters) - {"service_name", "start", "end"}:
        raise ParameterError(
            f"The 'filters' parameter of {function} must be a mapping with keys among "
            f"'service_name', 'start' and 'end'. Got {preview(filters)} instead."
        )
    out: dict[str, Any] = {}
    services = filters.get("service_name")
    if services is not None:
        listed = [services] if isinstance(services, str) else services
        if not (isinstance(listed, Sequence) and all(isinstance(s, str) for s in listed)):
            raise ParameterError(
                f"The 'service_name' filter of {function} must be a string or a list of "
                f"strings. Got {preview(services)} instead."
            )
        out["service_name"] = list(listed)
    for name in ("start", "end"):
        value = filters.get(name)
        if value is None:
            continue
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ParameterError(
                f"The '{name}' filter of {function} must be a time-zone-aware datetime. "
                f"Got {preview(value)} instead."
            )
        out[name] = value.astimezone(dt.UTC)
    return out
