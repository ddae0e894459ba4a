"""Prediction logs of a scoring model (CSV or Parquet) -> the canonical ``predictions`` table.

A fraud, abuse or triage model's prediction log, as a user exports it from a feature store,
a warehouse or the model server: one row per prediction with its time, score and, once
known, its label. Columns are found by name (case-insensitive; first match wins):

==================  =======================================================================
canonical column    names recognised
==================  =======================================================================
``time``            time, timestamp, prediction_time, predicted_at, scored_at, event_time
``score``           score, prediction_score, probability, proba, y_pred_proba, y_score,
                    fraud_score, risk_score
``label``           label, y_true, target, is_fraud, fraud, class, actual, ground_truth
``label_time``      label_time, labelled_at, labeled_at, label_timestamp, resolved_at
``prediction_id``   prediction_id, transaction_id, request_id, id
``model_version``   model_version, model, version
==================  =======================================================================

Every other column is kept as ``feature.<name>``. Times are ISO-8601 text with a zone (or
naive text with ``tz``), or Parquet timestamps; a label is 0/1, true/false or empty (not
known yet). A file is recognised as a prediction log when its header has a time, a score
and a label column. The ULB credit-card fraud file (``Time``, ``V1`` ... ``V28``,
``Amount``, ``Class``; no score) is recognised too and read by
:func:`toolkit.datasets.load_creditcard`, whose rows have a null ``score``
(:func:`toolkit.performance.fit_scores` fits one).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from toolkit._validation import Frame, InstanceOf, reject, validate_params
from toolkit.errors import FormatError, ParameterError, preview
from toolkit.ingest._io import open_binary

__all__ = [
    "ALIASES",
    "FORMAT",
    "ULB_FORMAT",
    "load_predictions",
    "looks_like",
    "predictions_from_spans",
]

FORMAT = "prediction-log"
ULB_FORMAT = "ulb-creditcard"

#: Names recognised for each canonical column, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "prediction_time", "predicted_at", "scored_at", "event_time"),
    "score": (
        "score",
        "prediction_score",
        "probability",
        "proba",
        "y_pred_proba",
        "y_score",
        "fraud_score",
        "risk_score",
    ),
    "label": ("label", "y_true", "target", "is_fraud", "fraud", "class", "actual", "ground_truth"),
    "label_time": ("label_time", "labelled_at", "labeled_at", "label_timestamp", "resolved_at"),
    "prediction_id": ("prediction_id", "transaction_id", "request_id", "id"),
    "model_version": ("model_version", "model", "version"),
}

_ULB_COLUMNS = ("time", *(f"v{i}" for i in range(1, 29)), "amount", "class")


def _match(header: Sequence[str]) -> dict[str, str]:
    """Canonical column -> the header name it comes from."""
    lowered = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    used: set[str] = set()
    for canonical, names in ALIASES.items():
        for name in names:
            if name in lowered and lowered[name] not in used:
                found[canonical] = lowered[name]
                used.add(lowered[name])
                break
    return found


def _header(path: Path) -> list[str] | None:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except (OSError, ValueError):
            return None
    with open_binary(path) as fh:
        line = fh.readline(65536)
    try:
        text = line.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return None
    if "," not in text:
        return None
    return next(csv.reader(io.StringIO(text)))


def looks_like(path: Path) -> str | None:
    """The format of a prediction log (:data:`FORMAT` or :data:`ULB_FORMAT`), else None.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = p.write_text("timestamp,fraud_score,is_fraud\\n2026-11-02T00:00:00Z,0.9,1\\n")
    >>> looks_like(p)
    'prediction-log'
    """
    try:
        header = _header(path)
    except (csv.Error, OSError, EOFError, ValueError):
        return None
    if not header:
        return None
    if tuple(h.strip().lower() for h in header) == _ULB_COLUMNS:
        return ULB_FORMAT
    found = _match(header)
    if {"time", "score", "label"} <= set(found):
        return FORMAT
    return None


def _read(path: Path) -> pl.DataFrame:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    try:
        if magic == b"PAR1":
            return pl.read_parquet(path)
        with open_binary(path) as fh:
            data = fh.read()
        return pl.read_csv(io.BytesIO(data), infer_schema_length=None, try_parse_dates=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FormatError(
            f"not a readable prediction log: {preview(str(exc), 200)}", path=path
        ) from None


def _no_tz(path: Path, column: str) -> ParameterError:
    what = f"name the time zone of {path.name}'s column {column!r}, whose times carry none"
    return reject("tz", what, None, function="load_predictions")


def _times(frame: pl.DataFrame, column: str, tz: str | None, path: Path) -> pl.Series:
    series = frame[column]
    if isinstance(series.dtype, pl.Datetime):
        if series.dtype.time_zone is None:
            if tz is None:
                raise _no_tz(path, column)
            series = series.dt.replace_time_zone(tz)
        return series.dt.convert_time_zone("UTC").dt.cast_time_unit("ns")
    if series.dtype != pl.String:
        raise FormatError(
            f"expected times (ISO-8601 text or timestamps), found {series.dtype}",
            path=path,
            column=column,
        )
    text = series.str.strip_chars()
    has_zone = text.str.contains(r"(Z|[+-]\d\d:?\d\d)$")
    if bool((has_zone | text.is_null()).all()):
        parsed = text.str.replace(r"Z$", "+00:00").str.to_datetime(
            time_unit="ns", time_zone="UTC", strict=False
        )
    elif bool((~has_zone | text.is_null()).all()):
        if tz is None:
            raise _no_tz(path, column)
        parsed = (
            text.str.to_datetime(time_unit="ns", strict=False)
            .dt.replace_time_zone(tz)
            .dt.convert_time_zone("UTC")
        )
    else:
        raise FormatError("some times carry a zone and some do not", path=path, column=column)
    bad = parsed.is_null() & text.is_not_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise FormatError(
            f"expected ISO-8601 times, found {preview(text[row])}",
            path=path,
            line=row + 2,
            column=column,
        )
    return parsed


def _labels(frame: pl.DataFrame, column: str, path: Path) -> pl.Series:
    series = frame[column]
    if series.dtype == pl.Boolean:
        return series
    if series.dtype.is_numeric():
        values = series.cast(pl.Float64)
        bad = values.is_not_null() & ~values.is_in([0.0, 1.0])
    else:
        text = series.cast(pl.String).str.strip_chars().str.to_lowercase()
        mapping = {"0": 0.0, "1": 1.0, "true": 1.0, "false": 0.0, "": None}
        values = text.replace_strict(mapping, default=-1.0, return_dtype=pl.Float64)
        bad = values.is_not_null() & (values < 0)
    if bad.any():
        row = int(bad.arg_true()[0])
        raise FormatError(
            f"expected a label 0/1, true/false or empty, found {preview(series[row])}",
            path=path,
            line=row + 2,
            column=column,
        )
    return values == 1.0


@validate_params(
    path=InstanceOf(str, os.PathLike, description="a path"),
    tz=[InstanceOf(str), None],
    format=[InstanceOf(str), None],
)
def load_predictions(
    path: str | os.PathLike[str], *, tz: str | None = None, format: str | None = None
) -> pl.DataFrame:
    """Read a prediction log (CSV, gzip CSV or Parquet) into the ``predictions`` table.

    Parameters
    ----------
    path : str or path-like
        The file.
    tz : str, optional
        IANA time zone of times written without one.
    format : str, optional
        :data:`FORMAT` or :data:`ULB_FORMAT`; default: told from the header.

    Returns
    -------
    polars.DataFrame
        ``time`` (Datetime ns UTC), ``score`` (Float64; null when the log has none),
        ``label`` (Boolean; null = not known yet), ``label_time``, ``prediction_id``,
        ``model_version``, then ``feature.<name>`` for every other column, sorted by time.

    Raises
    ------
    FormatError
        For a file that is not a prediction log or a value that cannot be read (with
        the line and column).
    ParameterError
        For times without a zone and no ``tz``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = p.write_text("timestamp,fraud_score,is_fraud,amount\\n"
    ...                  "2026-11-02T00:00:00Z,0.9,1,12.5\\n2026-11-02T00:01:00Z,0.2,,3\\n")
    >>> load_predictions(p).select("score", "label", "feature.amount").rows()
    [(0.9, True, 12.5), (0.2, None, 3.0)]
    """
    file = Path(os.fspath(path))
    kind = format or looks_like(file)
    if kind == ULB_FORMAT:
        from toolkit.datasets import load_creditcard

        return load_creditcard(file)
    if kind != FORMAT:
        raise FormatError(
            "not a prediction log: the header needs a time, a score and a label column "
            f"(names recognised: {', '.join(ALIASES['time'][:3])} ...; "
            f"{', '.join(ALIASES['score'][:3])} ...; {', '.join(ALIASES['label'][:3])} ...)",
            path=file,
        )
    raw = _read(file)
    found = _match(raw.columns)
    columns: dict[str, Any] = {
        "time": _times(raw, found["time"], tz, file),
        "score": raw[found["score"]].cast(pl.Float64, strict=False),
        "label": _labels(raw, found["label"], file),
    }
    bad = columns["score"].is_null() & raw[found["score"]].is_not_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise FormatError(
            f"expected a numeric score, found {preview(raw[found['score']][row])}",
            path=file,
            line=row + 2,
            column=found["score"],
        )
    columns["label_time"] = (
        _times(raw, found["label_time"], tz, file)
        if "label_time" in found
        else pl.Series([None] * raw.height, dtype=pl.Datetime("ns", "UTC"))
    )
    for name in ("prediction_id", "model_version"):
        columns[name] = (
            raw[found[name]].cast(pl.String)
            if name in found
            else pl.Series([None] * raw.height, dtype=pl.String)
        )
    used = set(found.values())
    for name in raw.columns:
        if name not in used:
            columns[f"feature.{name}"] = raw[name]
    out = pl.DataFrame(
        {k: v.alias(k) if isinstance(v, pl.Series) else v for k, v in columns.items()}
    )
    return out.sort("time", maintain_order=True)


def _attribute(spans: pl.DataFrame, given: str | None, role: str, exclude: set[str]) -> str | None:
    """The span attribute column holding ``role``: the one given, else one found by name.

    Found: an ``attributes.*`` column with values whose key (dots read as underscores) or
    last name is one of :data:`ALIASES` for the role; scores and labels must be numbers
    (labels also booleans), so a text attribute that happens to be called ``target`` is
    not taken for a label.
    """
    if given is not None:
        name = given if given.startswith("attributes.") else f"attributes.{given}"
        if name not in spans.columns:
            raise reject(role, "name a span attribute the spans carry", given)
        return name
    names = ALIASES[role]
    for column in spans.columns:
        if not column.startswith("attributes.") or column in exclude:
            continue
        key = column.removeprefix("attributes.").lower()
        last = key.rsplit(".", 1)[-1]
        named = key.replace(".", "_") in names or (last in names and last not in {"id", "model"})
        dtype = spans.schema[column]
        typed = role not in {"score", "label"} or dtype.is_numeric() or dtype == pl.Boolean
        if named and typed and spans[column].is_not_null().any():
            return column
    return None


@validate_params(
    spans=Frame(),
    score=[InstanceOf(str), None],
    label=[InstanceOf(str), None],
    prediction_id=[InstanceOf(str), None],
    model_version=[InstanceOf(str), None],
)
def predictions_from_spans(
    spans: Any,
    *,
    score: str | None = None,
    label: str | None = None,
    prediction_id: str | None = None,
    model_version: str | None = None,
) -> pl.DataFrame:
    """The ``predictions`` table of a scoring service that records its predictions on spans.

    A model server instrumented with OpenTelemetry can put the score it returned on its
    span (``fraud.score``, ``model.score``, ``risk_score`` ...) and, once the outcome is
    settled, record the label on a later span (or the same one) that carries the same
    prediction id. No semantic convention names these attributes, so they are found by
    their last name as in :data:`ALIASES` (``attributes.fraud.score`` -> ``score``), or
    named here.

    Each span with a score is one prediction (``time`` = its start). Labels come from the
    spans that carry the label attribute: matched by prediction id when there is one (the
    label known at the end time of the span that carried it, ``label_time``), else from
    the scoring span itself. The scoring spans' other attributes become ``feature.<key>``.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        The canonical spans table.
    score, label, prediction_id, model_version : str, optional
        The span attributes (with or without the ``attributes.`` prefix); default: found
        by name. ``model_version`` defaults to ``resource.service.version``.

    Returns
    -------
    polars.DataFrame
        The ``predictions`` table (empty, with its columns, when no span carries a score).

    Raises
    ------
    ParameterError
        For a named attribute the spans lack.
    FormatError
        For a score that is not a number or a label that is not 0/1 or true/false.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> spans = pl.DataFrame({
    ...     "span_id": ["a", "b", "c"],
    ...     "start_time": [t, t + dt.timedelta(minutes=1), t + dt.timedelta(days=2)],
    ...     "end_time": [t, t + dt.timedelta(minutes=1), t + dt.timedelta(days=2)],
    ...     "attributes.fraud.score": [0.9, 0.1, None],
    ...     "attributes.transaction.id": ["t1", "t2", "t1"],
    ...     "attributes.fraud.label": [None, None, True],
    ... })
    >>> predictions_from_spans(spans, prediction_id="transaction.id").select(
    ...     "prediction_id", "score", "label").rows()
    [('t1', 0.9, True), ('t2', 0.1, None)]
    """
    from toolkit.schema import PREDICTIONS

    frame: pl.DataFrame = spans
    score_column = _attribute(frame, score, "score", set())
    label_column = (
        _attribute(frame, label, "label", {score_column}) if score_column is not None else None
    )
    if score_column is None or (label_column is None and score is None):
        # found by name, a score needs a label too (as a prediction log's header does):
        # a retrieval span's document score is no model prediction
        return PREDICTIONS.empty()
    id_column = _attribute(
        frame,
        prediction_id,
        "prediction_id",
        {score_column} | ({label_column} if label_column else set()),
    )
    version_column = (
        _attribute(frame, model_version, "model_version", set())
        if model_version is not None
        else ("resource.service.version" if "resource.service.version" in frame.columns else None)
    )
    where = Path(f"spans (attribute {score_column})")
    scored = frame.filter(pl.col(score_column).is_not_null())
    values = scored[score_column].cast(pl.Float64, strict=False)
    bad = values.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise FormatError(
            f"expected a numeric score, found {preview(scored[score_column][row])} on span "
            f"{scored['span_id'][row] if 'span_id' in scored.columns else row}",
            path=where,
            column=score_column,
        )
    ids = (
        scored[id_column].cast(pl.String)
        if id_column is not None
        else scored["span_id"].cast(pl.String)
        if "span_id" in scored.columns
        else pl.Series([None] * scored.height, dtype=pl.String)
    )
    out = pl.DataFrame(
        {
            "time": scored["start_time"].dt.convert_time_zone("UTC").cast(pl.Datetime("ns", "UTC")),
            "score": values,
            "prediction_id": ids,
            "model_version": (
                scored[version_column].cast(pl.String)
                if version_column is not None
                else pl.Series([None] * scored.height, dtype=pl.String)
            ),
        }
    )
    label_time = pl.Series([None] * scored.height, dtype=pl.Datetime("ns", "UTC"))
    labels = pl.Series([None] * scored.height, dtype=pl.Boolean)
    if label_column is not None:
        carried = frame.filter(pl.col(label_column).is_not_null())
        known = _labels(carried, label_column, Path(f"spans (attribute {label_column})"))
        if id_column is not None:
            settled = (
                pl.DataFrame(
                    {
                        "prediction_id": carried[id_column].cast(pl.String),
                        "label": known,
                        "label_time": carried["end_time"]
                        .dt.convert_time_zone("UTC")
                        .cast(pl.Datetime("ns", "UTC")),
                    }
                )
                .sort("label_time")
                .unique("prediction_id", keep="last", maintain_order=True)
            )
            joined = out.select("prediction_id").join(
                settled, on="prediction_id", how="left", maintain_order="left"
            )
            labels, label_time = joined["label"], joined["label_time"]
        else:
            labels = _labels(scored, label_column, Path(f"spans (attribute {label_column})"))
            ended = scored["end_time"].dt.convert_time_zone("UTC").cast(pl.Datetime("ns", "UTC"))
            label_time = ended.zip_with(labels.is_not_null(), label_time)
    used = {c for c in (score_column, label_column, id_column, version_column) if c}
    features = {
        f"feature.{c.removeprefix('attributes.')}": scored[c]
        for c in scored.columns
        if c.startswith("attributes.") and c not in used and scored[c].is_not_null().any()
    }
    out = out.with_columns(
        labels.alias("label"), pl.Series("label_time", label_time, dtype=pl.Datetime("ns", "UTC"))
    )
    out = out.select("time", "score", "label", "label_time", "prediction_id", "model_version")
    return out.with_columns(**features).sort("time", maintain_order=True)
