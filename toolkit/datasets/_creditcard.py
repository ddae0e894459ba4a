"""The ULB / Worldline credit-card fraud file (Kaggle ``mlg-ulb/creditcardfraud``)."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import polars as pl

from toolkit._validation import InstanceOf, UTCTime, reject, validate_params
from toolkit.errors import FormatError, preview

#: Where ``Time`` 0 is put: the data covers two days of September 2013 and states no date
#: or zone, so the loader anchors it at the month's first midnight, UTC, and says so.
CREDITCARD_EPOCH = dt.datetime(2013, 9, 1, tzinfo=dt.UTC)

_COLUMNS = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class")


@validate_params(
    path=InstanceOf(str, os.PathLike, description="a path"),
    epoch=[UTCTime(text=False), None],
)
def load_creditcard(path: str | os.PathLike[str], *, epoch: Any = None) -> pl.DataFrame:
    """ULB's ``creditcard.csv`` (or a cut of it) as a ``predictions`` table without scores.

    The 31 columns are checked (``Time``, ``V1`` ... ``V28``, ``Amount``, ``Class``), in
    either of the published byte formats (R-style quoted header and labels, or Spark's
    unquoted ones with ``E`` exponents). ``Time`` is seconds since the first transaction
    of the full dataset; with no date in the data, ``time`` is ``epoch + Time`` (default
    :data:`CREDITCARD_EPOCH`, 2013-09-01 00:00 UTC). There is no model score: ``score``
    is null (fit one with :func:`toolkit.performance.fit_scores`). Duplicate rows are kept,
    as upstream.

    Parameters
    ----------
    path : str or path-like
        The CSV file (gzip allowed).
    epoch : datetime, optional
        The time given to ``Time`` = 0 (aware).

    Returns
    -------
    polars.DataFrame
        ``time``, ``score`` (null), ``label`` (``Class`` = 1), ``label_time`` (null),
        ``prediction_id`` (the row's 1-based number in the file), ``model_version`` (null),
        ``feature.V1`` ... ``feature.V28``, ``feature.Amount``, sorted by time.

    Raises
    ------
    FormatError
        If the header or a value is not the dataset's.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> header = ",".join(['"Time"', *[f'"V{i}"' for i in range(1, 29)], '"Amount"', '"Class"'])
    >>> row = ",".join(["406", *["0.5"] * 28, "0", '"1"'])
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "creditcard.csv"
    >>> _ = p.write_text(header + "\\n" + row)
    >>> load_creditcard(p).select("time", "label", "feature.Amount").rows()
    [(datetime.datetime(2013, 9, 1, 0, 6, 46, tzinfo=zoneinfo.ZoneInfo(key='UTC')), True, 0.0)]
    """
    from toolkit.ingest._io import open_binary

    file = Path(os.fspath(path))
    if not file.is_file():
        raise reject("path", "name an existing file", got=f"{str(file)!r}, which does not exist,")
    start = CREDITCARD_EPOCH if epoch is None else epoch
    with open_binary(file) as fh:
        data = fh.read()
    try:
        raw = pl.read_csv(
            io.BytesIO(data),
            schema=dict.fromkeys(_COLUMNS, pl.Float64),
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FormatError(
            f"not the ULB credit-card file ({_COLUMNS[0]}, V1..V28, Amount, Class): "
            f"{preview(str(exc), 200)}",
            path=file,
        ) from None
    header = data.split(b"\n", 1)[0].decode("utf-8", "replace").replace('"', "").strip()
    if tuple(header.split(",")) != _COLUMNS:
        raise FormatError(
            f"expected the header {','.join(_COLUMNS[:3])},...,Amount,Class; found "
            f"{preview(header, 120)}",
            path=file,
            line=1,
        )
    for name in _COLUMNS:
        nulls = raw[name].is_null()
        if nulls.any():
            row = int(nulls.arg_true()[0])
            raise FormatError("empty value", path=file, line=row + 2, column=name)
    bad = ~raw["Class"].is_in([0.0, 1.0])
    if bad.any():
        row = int(bad.arg_true()[0])
        raise FormatError(
            f"expected Class 0 or 1, found {raw['Class'][row]}",
            path=file,
            line=row + 2,
            column="Class",
        )
    anchor = pl.lit(start.astimezone(dt.UTC), dtype=pl.Datetime("ns", "UTC"))
    out = raw.select(
        (anchor + pl.duration(microseconds=(pl.col("Time") * 1e6).round(0).cast(pl.Int64))).alias(
            "time"
        ),
        pl.lit(None, dtype=pl.Float64).alias("score"),
        (pl.col("Class") == 1.0).alias("label"),
        pl.lit(None, dtype=pl.Datetime("ns", "UTC")).alias("label_time"),
        (pl.int_range(1, pl.len() + 1).cast(pl.String)).alias("prediction_id"),
        pl.lit(None, dtype=pl.String).alias("model_version"),
        *[pl.col(f"V{i}").alias(f"feature.V{i}") for i in range(1, 29)],
        pl.col("Amount").alias("feature.Amount"),
    )
    return out.sort("time", maintain_order=True)
