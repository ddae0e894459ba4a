"""The fair band, reserved column names and the checks of the parameters the fairness
functions share (outcome, label, group columns, privileged groups, options).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from toolkit.errors import ParameterError, preview
from toolkit.schema import to_polars

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
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a column of the frame "
            f"(available: {preview(', '.join(data.columns), 300)}). Got {preview(name)} instead."
        )
    return name


def _group_columns(data: pl.DataFrame, group: Any, function: str) -> list[str]:
    names = [group] if isinstance(group, str) else group
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        raise ParameterError(
            f"The 'group' parameter of {function} must be a column name or a non-empty list "
            f"of column names. Got {preview(group)} instead."
        )
    out = [_column(data, name, "group", function) for name in names]
    if len(set(out)) != len(out):
        raise ParameterError(
            f"The 'group' parameter of {function} must name each column once. "
            f"Got {preview(group)} instead."
        )
    clash = [name for name in out if name in _RESERVED]
    if clash:
        raise ParameterError(
            f"The 'group' parameter of {function} must not name a column called like a result "
            f"column ({', '.join(clash)}): rename it first. Got {preview(group)} instead."
        )
    return out


def _values(data: pl.DataFrame, column: str, favorable: Any, function: str) -> pl.Series:
    """``favorable`` (a value or a collection of values) as a Series of the column's dtype."""
    items = (
        list(favorable) if isinstance(favorable, list | tuple | set | frozenset) else [favorable]
    )
    dtype = data.schema[column]
    if not items or any(v is None for v in items):
        raise ParameterError(
            f"The 'favorable' parameter of {function} must be a value of column {column!r} "
            f"or a non-empty list of values. Got {preview(favorable)} instead."
        )
    try:
        values = pl.Series("favorable", items, strict=False)
        cast = values.cast(dtype, strict=True)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        cast = None
    if cast is None or cast.null_count() or (dtype == pl.Boolean and values.dtype != pl.Boolean):
        raise ParameterError(
            f"The 'favorable' parameter of {function} must hold values of the dtype of "
            f"column {column!r} ({dtype}). Got {preview(favorable)} instead."
        )
    return cast


def _no_nulls(data: pl.DataFrame, column: str, parameter: str, function: str) -> None:
    nulls = data[column].null_count()
    if nulls:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must name a column without nulls "
            f"(filter or fill them first: a null outcome is neither favorable nor not). "
            f"Got {column!r} with {nulls:,} nulls in {data.height:,} rows instead."
        )


def _outcome_and_label(
    frame: Any, outcome: Any, label: Any, function: str
) -> tuple[pl.DataFrame, str, str]:
    """The frame as polars and its outcome and label columns, both present and null-free."""
    data = to_polars(frame, function=function)
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
        raise ParameterError(
            f"The 'privileged' parameter of {function} must be None, a group value, a dict "
            f"{{column: value}} or a non-empty list of those. Got {preview(privileged)} instead."
        )
    specs: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping):
            spec = dict(item)
        elif len(group) == 1:
            spec = {group[0]: item}
        else:
            raise ParameterError(
                f"The 'privileged' parameter of {function} must be a dict {{column: value}} "
                f"(or a list of them) when several group columns are given. "
                f"Got {preview(item)} instead."
            )
        unknown = [k for k in spec if k not in group]
        if not spec or unknown:
            raise ParameterError(
                f"The 'privileged' parameter of {function} must use the group columns "
                f"({', '.join(group)}) as keys. Got {preview(item)} instead."
            )
        for key, value in spec.items():
            present = cells[key].drop_nulls().unique().sort().to_list()
            found = cells[key].is_null().any() if value is None else value in present
            if not found:
                raise ParameterError(
                    f"The 'privileged' parameter of {function} must name values present in "
                    f"column {key!r} (found: {preview(', '.join(map(str, present)), 200)}). "
                    f"Got {preview(value)} instead."
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


def _positive_int(value: Any, parameter: str, function: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be an integer >= {minimum}. "
            f"Got {preview(value)} instead."
        )
    return int(value)


def _check_options(confidence: Any, band: Any, function: str) -> tuple[float, tuple[float, float]]:
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        confidence = math.nan
    if not 0 < float(confidence) < 1:
        raise ParameterError(
            f"The 'confidence' parameter of {function} must be a number between 0 and 1. "
            f"Got {preview(confidence)} instead."
        )
    ok = (
        isinstance(band, tuple | list)
        and len(band) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in band)
        and 0 < band[0] <= 1 <= band[1]
    )
    if not ok:
        raise ParameterError(
            f"The 'band' parameter of {function} must be a pair (low, high) with "
            f"0 < low <= 1 <= high. Got {preview(band)} instead."
        )
    return float(confidence), (float(band[0]), float(band[1]))


def _check_alpha(alpha: Any, function: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise ParameterError(
            f"The 'alpha' parameter of {function} must be a number between 0 and 1. "
            f"Got {preview(alpha)} instead."
        )
    return float(alpha)
