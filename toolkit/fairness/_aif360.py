"""Private adapter between our frames and AIF360 (the reference implementation).

AIF360 is imported here, lazily, inside :func:`aif360`: its import logs optional-dependency
messages through the *root* logger (``logging.warning`` also installs a stderr handler on
a root logger that has none) and imports modules that change ``warnings.filters``. Every
use of AIF360 goes through :func:`quiet`, which silences both and restores the root
logger's level, handlers and ``disabled`` flag and the warnings filters exactly as they
were. AIF360 0.6.1 also fails on pandas 3 string columns (``numpy.issubdtype`` cannot
interpret ``StringDtype``): :func:`for_aif360` turns them into ``object`` columns. Its
scikit-learn-API ``PostProcessingMeta`` fails on scikit-learn >= 1.6, so the mitigation in
:mod:`toolkit.fairness` uses the classic ``aif360.algorithms`` classes.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "aif360",
    "binary_dataset",
    "compute_group_metrics",
    "compute_theil_index",
    "for_aif360",
    "quiet",
]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence AIF360's root-logger messages and warnings; restore both states exactly."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    level, disabled = root.level, root.disabled
    root.handlers[:] = [logging.NullHandler()]  # keeps logging.warning from basicConfig()
    root.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        root.disabled = disabled


def aif360() -> SimpleNamespace:
    """The AIF360 classes the toolkit uses, imported quietly on first use."""
    with quiet():
        from aif360.algorithms.postprocessing import (
            CalibratedEqOddsPostprocessing,
            RejectOptionClassification,
        )
        from aif360.algorithms.preprocessing import Reweighing
        from aif360.datasets import BinaryLabelDataset, StandardDataset
        from aif360.metrics import BinaryLabelDatasetMetric, ClassificationMetric
    return SimpleNamespace(
        BinaryLabelDataset=BinaryLabelDataset,
        StandardDataset=StandardDataset,
        BinaryLabelDatasetMetric=BinaryLabelDatasetMetric,
        ClassificationMetric=ClassificationMetric,
        Reweighing=Reweighing,
        RejectOptionClassification=RejectOptionClassification,
        CalibratedEqOddsPostprocessing=CalibratedEqOddsPostprocessing,
    )


def for_aif360(frame: Any) -> Any:
    """A pandas copy of ``frame`` whose string columns are ``object`` (AIF360 0.6.1 on pandas 3)."""
    import pandas as pd

    out = frame.copy() if isinstance(frame, pd.DataFrame) else frame.to_pandas()
    for name in out.columns:
        dtype = out[name].dtype
        if dtype is not np.dtype(object) and pd.api.types.is_string_dtype(dtype):
            out[name] = out[name].astype(object)
    return out


def codes(series: pl.Series) -> list[Any]:
    """The distinct values of a group column in code order (sorted, null last)."""
    return series.unique().sort(nulls_last=True).to_list()


def _code_column(series: pl.Series, values: list[Any]) -> np.ndarray:
    mapping = pl.DataFrame(
        {"_v": pl.Series(values, dtype=series.dtype), "_c": np.arange(len(values), dtype=float)}
    )
    joined = pl.DataFrame({"_v": series}).join(mapping, on="_v", how="left", nulls_equal=True)
    return joined["_c"].to_numpy()


def binary_dataset(
    labels: np.ndarray,
    protected: Mapping[str, np.ndarray],
    *,
    scores: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    features: np.ndarray | None = None,
) -> Any:
    """A BinaryLabelDataset with 1.0 = favorable, numeric protected codes, optional scores."""
    import pandas as pd

    columns: dict[str, np.ndarray] = {"label": labels.astype(float)}
    columns.update({name: values.astype(float) for name, values in protected.items()})
    if features is not None:
        columns.update({f"x{j}": features[:, j].astype(float) for j in range(features.shape[1])})
    if weights is not None:
        columns["_weight"] = weights.astype(float)
    if scores is not None:
        columns["_score"] = scores.astype(float)
    df = pd.DataFrame(columns)
    lib = aif360()
    with quiet():
        return lib.BinaryLabelDataset(
            df=df,
            label_names=["label"],
            protected_attribute_names=list(protected),
            instance_weights_name="_weight" if weights is not None else None,
            scores_names=["_score"] if scores is not None else [],
            favorable_label=1.0,
            unfavorable_label=0.0,
        )


def _relabel(dataset: Any, labels: np.ndarray) -> Any:
    out = dataset.copy(deepcopy=True)
    out.labels = labels.astype(float).reshape(-1, 1)
    return out


def compute_group_metrics(
    data: pl.DataFrame,
    outcome: str,
    group: Sequence[str],
    favorable: pl.Series,
    privileged: list[dict[str, Any]] | None,
    label: str | None,
) -> pl.DataFrame:
    """The per-group metrics of :func:`toolkit.fairness.group_metrics`, through AIF360.

    Each group (cell of the group columns) is AIF360's unprivileged group; the privileged
    groups are ``privileged`` (a list of {column: value} dicts) or, when None, every other
    cell. Returns the point estimates only, one row per cell in code order.
    """
    lib = aif360()
    values = {name: codes(data[name]) for name in group}
    coded = {f"g{i}": _code_column(data[name], values[name]) for i, name in enumerate(group)}
    favorable_outcome = data[outcome].is_in(favorable.implode()).to_numpy().astype(float)
    cells = data.select(group).unique().sort(group, nulls_last=True)
    ds_out = binary_dataset(favorable_outcome, coded)
    ds_unfav = binary_dataset(1.0 - favorable_outcome, coded)
    if label is not None:
        truth = data[label].is_in(favorable.implode()).to_numpy().astype(float)
        ds_true = binary_dataset(truth, coded)
        ds_pred = _relabel(ds_true, favorable_outcome)

    def code_of(name: str, value: Any) -> float:
        return float(values[name].index(value))

    def as_codes(spec: Mapping[str, Any]) -> dict[str, float]:
        return {f"g{group.index(k)}": code_of(k, v) for k, v in spec.items()}

    rows: list[dict[str, Any]] = []
    for cell in cells.iter_rows(named=True):
        unpriv = [as_codes(cell)]
        if privileged is None:
            priv = [as_codes(other) for other in cells.iter_rows(named=True) if other != cell]
        else:
            priv = [as_codes(spec) for spec in privileged]
        row: dict[str, Any] = dict(cell)
        with quiet():
            row.update(_cell_metrics(lib, ds_out, ds_unfav, unpriv, priv))
            if label is not None:
                row.update(_cell_label_metrics(lib, ds_true, ds_pred, unpriv, priv))
        rows.append(row)
    return pl.DataFrame(rows, schema_overrides=dict(cells.schema))


def _overlap(dataset: Any, unpriv: list[dict[str, float]], priv: list[dict[str, float]]) -> bool:
    names = dataset.protected_attribute_names
    attrs = dataset.protected_attributes

    def mask(groups: list[dict[str, float]]) -> np.ndarray:
        out = np.zeros(len(attrs), dtype=bool)
        for spec in groups:
            hit = np.ones(len(attrs), dtype=bool)
            for key, value in spec.items():
                hit &= attrs[:, names.index(key)] == value
            out |= hit
        return out

    return bool(np.any(mask(unpriv) & mask(priv)))


def _ratio(a: float, b: float) -> float:
    return a / b if b != 0 else math.nan


def _cell_metrics(
    lib: Any, ds: Any, ds_unfav: Any, unpriv: list[dict[str, float]], priv: list[dict[str, float]]
) -> dict[str, Any]:
    """Group and reference metrics; AIF360's own differences when the groups are disjoint.

    AIF360 refuses overlapping groups (a privileged group's own row): its rates then come
    from two metric objects, one per side, and the ratio and difference from those rates.
    """
    out: dict[str, Any] = {}
    if not _overlap(ds, unpriv, priv):
        m = lib.BinaryLabelDatasetMetric(ds, unprivileged_groups=unpriv, privileged_groups=priv)
        m_unfav = lib.BinaryLabelDatasetMetric(
            ds_unfav, unprivileged_groups=unpriv, privileged_groups=priv
        )
        out["n"] = int(m.num_instances(privileged=False))
        out["n_favorable"] = int(m.num_positives(privileged=False))
        out["favorable_rate"] = float(m.base_rate(privileged=False))
        out["reference_rate"] = float(m.base_rate(privileged=True))
        out["disparate_impact"] = float(m.disparate_impact())
        out["statistical_parity_difference"] = float(m.statistical_parity_difference())
        out["unfavorable_ratio"] = float(m_unfav.disparate_impact())
        return out
    mine = lib.BinaryLabelDatasetMetric(ds, unprivileged_groups=unpriv)
    ref = lib.BinaryLabelDatasetMetric(ds, privileged_groups=priv)
    rate, ref_rate = float(mine.base_rate(privileged=False)), float(ref.base_rate(privileged=True))
    out["n"] = int(mine.num_instances(privileged=False))
    out["n_favorable"] = int(mine.num_positives(privileged=False))
    out["favorable_rate"] = rate
    out["reference_rate"] = ref_rate
    out["disparate_impact"] = _ratio(rate, ref_rate)
    out["statistical_parity_difference"] = rate - ref_rate
    out["unfavorable_ratio"] = _ratio(1.0 - rate, 1.0 - ref_rate)
    return out


def _cell_label_metrics(
    lib: Any,
    ds_true: Any,
    ds_pred: Any,
    unpriv: list[dict[str, float]],
    priv: list[dict[str, float]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not _overlap(ds_true, unpriv, priv):
        c = lib.ClassificationMetric(
            ds_true, ds_pred, unprivileged_groups=unpriv, privileged_groups=priv
        )
        out["true_positive_rate"] = float(c.true_positive_rate(privileged=False))
        out["false_positive_rate"] = float(c.false_positive_rate(privileged=False))
        out["equal_opportunity_difference"] = float(c.equal_opportunity_difference())
        out["average_odds_difference"] = float(c.average_odds_difference())
        return out
    mine = lib.ClassificationMetric(ds_true, ds_pred, unprivileged_groups=unpriv)
    ref = lib.ClassificationMetric(ds_true, ds_pred, privileged_groups=priv)
    tpr, fpr = float(mine.true_positive_rate(False)), float(mine.false_positive_rate(False))
    ref_tpr, ref_fpr = float(ref.true_positive_rate(True)), float(ref.false_positive_rate(True))
    out["true_positive_rate"] = tpr
    out["false_positive_rate"] = fpr
    out["equal_opportunity_difference"] = tpr - ref_tpr
    out["average_odds_difference"] = 0.5 * ((fpr - ref_fpr) + (tpr - ref_tpr))
    return out


def compute_theil_index(
    data: pl.DataFrame, outcome: str, label: str, favorable: pl.Series
) -> float:
    """AIF360's ClassificationMetric.theil_index on the whole frame."""
    lib = aif360()
    pred = data[outcome].is_in(favorable.implode()).to_numpy().astype(float)
    truth = data[label].is_in(favorable.implode()).to_numpy().astype(float)
    group = {"g0": np.zeros(data.height)}
    ds_true = binary_dataset(truth, group)
    ds_pred = _relabel(ds_true, pred)
    with quiet():
        metric = lib.ClassificationMetric(
            ds_true, ds_pred, unprivileged_groups=None, privileged_groups=None
        )
        return float(metric.theil_index())
