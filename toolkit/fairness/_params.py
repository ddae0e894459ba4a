"""The fair band, reserved column names and the checks of the parameters the fairness
functions share (outcome, label, group columns, privileged groups, options).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Interval, frame_in, reject
from toolkit.errors import preview

#: The fair band of the four-fifths rule (EEOC's adverse impact, and its inverse).
BAND: tuple[float, float] = (0.8, 1.25)

#: Columns of :func:`group_metrics` that a group column may not be called.
_RESERVED = (
    "group",
    "privileged",
    "n",
    "n_favorable",
    "favorable_rate",
    "favorable_rate_low",
    "favorable_rate_high",
    "reference_rate",
    "disparate_impact",
    "disparate_impact_low",
    "disparate_impact_high",
    "statistical_parity_difference",
    "statistical_parity_difference_low",
    "statistical_parity_difference_high",
    "unfavorable_ratio",
    "unfavorable_ratio_low",
    "unfavorable_ratio_high",
    "true_positive_rate",
    "false_positive_rate",
    "equal_opportunity_difference",
    "equal_opportunity_difference_low",
    "equal_opportunity_difference_high",
    "average_odds_difference",
    "average_odds_difference_low",
    "average_odds_difference_high",
    "p_value",
    "p_value_holm",
    "small",
    "four_fifths_violation",
    "flagged",
    "disparity",
)
_WITH_CI = (
    "favorable_rate",
    "disparate_impact",
    "statistical_parity_difference",
    "unfavorable_ratio",
)
_LABEL_WITH_CI = ("equal_opportunity_difference", "average_odds_difference")


def _column(data: pl.DataFrame, name: Any, parameter: str, function: str) -> str:
    if not isinstance(name, str) or name not in data.columns:
        raise reject(
            parameter,
            f"be a column of the frame (available: {preview(', '.join(data.columns), 300)})",
            got=preview(name),
            function=function,
        )
    return name


def _group_columns(data: pl.DataFrame, group: Any, function: str) -> list[str]:
    names = [group] if isinstance(group, str) else group
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        raise reject(
            "group",
            "be a column name or a non-empty list of column names",
            got=preview(group),
            function=function,
        )
    out = [_column(data, name, "group", function) for name in names]
    if len(set(out)) != len(out):
        raise reject("group", "name each column once", got=preview(group), function=function)
    clash = [name for name in out if name in _RESERVED]
    if clash:
        raise reject(
            "group",
            f"not name a column called like a result column ({', '.join(clash)}): rename it first",
            got=preview(group),
            function=function,
        )
    return out


def _values(data: pl.DataFrame, column: str, favorable: Any, function: str) -> pl.Series:
    """``favorable`` (a value or a collection of values) as a Series of the column's dtype."""
    items = (
        list(favorable) if isinstance(favorable, list | tuple | set | frozenset) else [favorable]
    )
    dtype = data.schema[column]
    if not items or any(v is None for v in items):
        raise reject(
            "favorable",
            f"be a value of column {column!r} or a non-empty list of values",
            got=preview(favorable),
            function=function,
        )
    try:
        values = pl.Series("favorable", items, strict=False)
        cast = values.cast(dtype, strict=True)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        cast = None
    if cast is None or cast.null_count() or (dtype == pl.Boolean and values.dtype != pl.Boolean):
        raise reject(
            "favorable",
            f"hold values of the dtype of column {column!r} ({dtype})",
            got=preview(favorable),
            function=function,
        )
    return cast


def _no_nulls(data: pl.DataFrame, column: str, parameter: str, function: str) -> None:
    nulls = data[column].null_count()
    if nulls:
        raise reject(
            parameter,
            "name a column without nulls (filter or fill them first: a null outcome is "
            "neither favorable nor not)",
            got=f"{column!r} with {nulls:,} nulls in {data.height:,} rows",
            function=function,
        )


def _outcome_and_label(
    frame: Any, outcome: Any, label: Any, function: str
) -> tuple[pl.DataFrame, str, str]:
    """The frame as polars and its outcome and label columns, both present and null-free."""
    data = frame_in(frame, function=function)
    outcome = _column(data, outcome, "outcome", function)
    label = _column(data, label, "label", function)
    _no_nulls(data, outcome, "outcome", function)
    _no_nulls(data, label, "label", function)
    return data, outcome, label


def _privileged(
    cells: pl.DataFrame, group: list[str], privileged: Any, function: str
) -> list[dict[str, Any]] | None:
    """``privileged`` as AIF360's list of {column: value} dicts, each matching a cell."""
    if privileged is None:
        return None
    items = (
        list(privileged) if isinstance(privileged, list | tuple | set | frozenset) else [privileged]
    )
    if not items:
        raise reject(
            "privileged",
            "be None, a group value, a dict {column: value} or a non-empty list of those",
            got=preview(privileged),
            function=function,
        )
    specs: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping):
            spec = dict(item)
        elif len(group) == 1:
            spec = {group[0]: item}
        else:
            raise reject(
                "privileged",
                "be a dict {column: value} (or a list of them) when several group columns "
                "are given",
                got=preview(item),
                function=function,
            )
        unknown = [k for k in spec if k not in group]
        if not spec or unknown:
            raise reject(
                "privileged",
                f"use the group columns ({', '.join(group)}) as keys",
                got=preview(item),
                function=function,
            )
        for key, value in spec.items():
            present = cells[key].drop_nulls().unique().sort().to_list()
            found = cells[key].is_null().any() if value is None else value in present
            if not found:
                raise reject(
                    "privileged",
                    f"name values present in column {key!r} "
                    f"(found: {preview(', '.join(map(str, present)), 200)})",
                    got=preview(value),
                    function=function,
                )
        specs.append(spec)
    return specs


def _member(cells: pl.DataFrame, specs: list[dict[str, Any]]) -> np.ndarray:
    """Boolean mask of the cells inside the privileged groups (OR of ANDs)."""
    mask = np.zeros(cells.height, dtype=bool)
    for spec in specs:
        hit = np.ones(cells.height, dtype=bool)
        for key, value in spec.items():
            column = cells[key]
            hit &= (
                (column.is_null() if value is None else column == value).fill_null(False).to_numpy()
            )
        mask |= hit
    return mask


def at_least(minimum: int) -> Interval:
    """An integer >= ``minimum``, in the wording the fairness functions have always used."""
    return Interval(int, minimum, None, description=f"an integer >= {minimum}")


#: ``confidence`` and ``alpha``: a number strictly between 0 and 1.
UNIT = Interval(float, 0, 1, closed="neither", description="a number between 0 and 1")


def _check_band(band: Any, function: str) -> tuple[float, float]:
    """``band`` as a (low, high) pair of floats with 0 < low <= 1 <= high."""
    ok = (
        isinstance(band, tuple | list)
        and len(band) == 2
        and all(isinstance(b, int | float | np.number) and not isinstance(b, bool) for b in band)
        and 0 < band[0] <= 1 <= band[1]
    )
    if not ok:
        raise reject(
            "band", "be a pair (low, high) with 0 < low <= 1 <= high", band, function=function
        )
    return float(band[0]), float(band[1])
