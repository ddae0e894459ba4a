"""The same numbers through AIF360 itself, the reference implementation
(:func:`aif360_group_metrics`, :func:`aif360_theil_index`), and AIF360 datasets built
from our frames (:func:`aif360_dataset`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    Strings,
    frame_in,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import preview
from toolkit.fairness._metrics import _label_text, _prepare
from toolkit.fairness._params import _column, _outcome_and_label, _privileged, _values


@validate_params(frame=Frame(), backend=BACKEND)
def aif360_group_metrics(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    *,
    favorable: Any,
    privileged: Any,
    label: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The point metrics of :func:`group_metrics`, computed by AIF360 itself.

    Builds AIF360 ``BinaryLabelDataset`` objects from the frame (group values coded as
    numbers, 1.0 = favorable) and asks ``BinaryLabelDatasetMetric`` (and, with a label,
    ``ClassificationMetric``) for each group with the group as the unprivileged group.
    ``unfavorable_ratio`` is AIF360's disparate impact with the labels swapped. Slow (one
    AIF360 metric object per group): use it to check, :func:`group_metrics` to audit.

    Parameters
    ----------
    frame, outcome, group, favorable, privileged, label
        As in :func:`group_metrics`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``group``, the group column(s), ``n``, ``n_favorable``, ``favorable_rate``,
        ``reference_rate``, ``disparate_impact``, ``statistical_parity_difference``,
        ``unfavorable_ratio`` and, with a label, ``true_positive_rate``,
        ``false_positive_rate``, ``equal_opportunity_difference``,
        ``average_odds_difference`` (AIF360 gives NaN or inf where a rate is undefined).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en", "en", "en", "en", "tr", "tr"],
    ...                       "served": [True, True, True, False, True, False]})
    >>> m = aif360_group_metrics(calls, "served", "locale", favorable=True, privileged="en")
    >>> m["disparate_impact"].to_list()
    [1.0, 0.6666666666666666]
    """
    from toolkit.fairness import _aif360

    function = "fairness.aif360_group_metrics"
    data, columns, fav_outcome, _ = _prepare(frame, outcome, group, favorable, label, function)
    cells = data.select(columns).unique().sort(columns, nulls_last=True)
    specs = _privileged(cells, columns, privileged, function)
    result = _aif360.compute_group_metrics(data, outcome, columns, fav_outcome, specs, label)
    result = result.select(
        pl.Series("group", _label_text(result.select(columns), columns), dtype=pl.String),
        pl.all(),
    )
    return frame_out(result, backend)


@validate_params(frame=Frame())
def aif360_theil_index(frame: Any, outcome: str, *, label: str, favorable: Any) -> float:
    """:func:`theil_index` computed by AIF360's ``ClassificationMetric.theil_index``.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"pred": [1, 1, 0, 0], "truth": [1, 0, 0, 1]})
    >>> round(aif360_theil_index(f, "pred", label="truth", favorable=1), 6)
    0.346574
    """
    from toolkit.fairness import _aif360

    function = "fairness.aif360_theil_index"
    data, outcome, label = _outcome_and_label(frame, outcome, label, function)
    fav = _values(data, outcome, favorable, function)
    if data.schema[label] != data.schema[outcome]:
        data = data.with_columns(
            pl.col(label).is_in(_values(data, label, favorable, function).implode()),
            pl.col(outcome).is_in(fav.implode()),
        )
        fav = pl.Series([True])
    return _aif360.compute_theil_index(data, outcome, label, fav)


@validate_params(
    categorical=Strings(description="a list of column names"),
    features=[Strings(description="a list of column names"), None],
)
def aif360_dataset(
    frame: Any,
    label: str,
    favorable: Any,
    protected: Mapping[str, Any],
    *,
    categorical: Sequence[str] = (),
    features: Sequence[str] | None = None,
) -> Any:
    """An AIF360 ``StandardDataset`` from a polars or pandas frame.

    pandas 3 string columns are turned into ``object`` columns first (AIF360 0.6.1 cannot
    read them); everything else is AIF360's own ``StandardDataset`` processing: the label
    becomes 1.0 (favorable) / 0.0 unless it is already a binary number, each protected
    column 1.0 (privileged) / 0.0, categorical columns one-hot encoded, and rows with a
    missing value dropped (AIF360 logs how many; so does this function not).

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    label : str
        Ground-truth column.
    favorable : value or list of values
        Favorable value(s) of the label.
    protected : mapping
        ``{column: privileged value(s)}``; a callable is also accepted (AIF360's
        ``privileged_classes``, e.g. ``lambda age: age > 25``).
    categorical : list of str, optional
        Columns to one-hot encode.
    features : list of str, optional
        Columns to keep (all by default; the label, protected and categorical columns are
        always kept).

    Returns
    -------
    aif360.datasets.StandardDataset

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"tier": ["free", "pro", "free"], "ok": ["y", "y", "n"], "x": [1, 2, 3]})
    >>> ds = aif360_dataset(f, "ok", "y", {"tier": ["pro"]})
    >>> ds.labels.ravel().tolist(), ds.protected_attributes.ravel().tolist()
    ([1.0, 1.0, 0.0], [0.0, 1.0, 0.0])
    """
    from toolkit.fairness import _aif360

    function = "fairness.aif360_dataset"
    data = frame_in(frame, function=function)
    label = _column(data, label, "label", function)
    if not isinstance(protected, Mapping) or not protected:
        raise reject(
            "protected",
            "be a non-empty mapping {column: privileged value(s)}",
            got=preview(protected),
            function=function,
        )
    for name in [*protected, *categorical, *(features or [])]:
        _column(data, name, "protected/categorical/features", function)
    fav = favorable if isinstance(favorable, list | tuple) else [favorable]
    privileged = [
        v if callable(v) else (list(v) if isinstance(v, list | tuple | set) else [v])
        for v in protected.values()
    ]
    df = _aif360.for_aif360(frame if not isinstance(frame, pl.DataFrame | pl.LazyFrame) else data)
    lib = _aif360.aif360()
    with _aif360.quiet():
        return lib.StandardDataset(
            df=df,
            label_name=label,
            favorable_classes=list(fav),
            protected_attribute_names=list(protected),
            privileged_classes=privileged,
            categorical_features=list(categorical),
            features_to_keep=list(features or []),
        )
