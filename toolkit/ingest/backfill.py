"""The metrics table out as OpenMetrics text, to backfill a Prometheus server.

An SRE with exported scrapes (or any metrics table) loads them into Prometheus with
``promtool tsdb create-blocks-from openmetrics FILE DATA_DIR`` and moves the blocks into
the server's ``--storage.tsdb.path``; :func:`write_openmetrics` writes that FILE.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from toolkit._validation import Frame, InstanceOf, reject, validate_params
from toolkit.errors import preview
from toolkit.ingest._io import PathLike
from toolkit.schema import METRICS, validate

__all__ = ["write_openmetrics"]

_NAME_RE = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Sample-name suffixes of each family type, as an OpenMetrics exposition writes them.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
_NS = 1_000_000_000


def _escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
        .str.replace_all("\n", "\\n", literal=True)
    )


def _number(expr: pl.Expr) -> pl.Expr:
    """Floats as OpenMetrics numbers (``+Inf``, ``-Inf``, ``NaN``)."""
    return (
        pl.when(expr.is_nan())
        .then(pl.lit("NaN"))
        .when(expr == float("inf"))
        .then(pl.lit("+Inf"))
        .when(expr == float("-inf"))
        .then(pl.lit("-Inf"))
        .otherwise(expr.cast(pl.String))
    )


def _family(name: str, typ: str) -> tuple[str, str]:
    """The family (name, type) a sample belongs to in OpenMetrics."""
    for suffix in _SUFFIXES.get(typ, ()):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix), typ
    if typ in ("gauge", "stateset", "unknown"):
        return name, typ
    if typ == "summary":  # the quantile series carry the family's name
        return name, typ
    # A counter not named *_total (Prometheus text format allows it), or a sample that
    # does not fit its type's layout: OpenMetrics has no place for it but "unknown".
    return name, "unknown"


@validate_params(frame=Frame(), path=InstanceOf(str, os.PathLike, description="a path"))
def write_openmetrics(frame: Any, path: PathLike) -> None:
    """Write a metrics table as an OpenMetrics 1.0 text exposition, for backfilling.

    Each family gets its ``# TYPE`` line (and ``# UNIT`` where the family name ends with
    the unit, as OpenMetrics requires), then its series in time order with timestamps in
    seconds (to the nanosecond), and the file ends with ``# EOF``. ``le`` becomes the
    label of bucket samples; ``label.<name>`` columns are the labels (null values left
    out, as Prometheus treats empty labels). Read back by :func:`toolkit.read_prometheus`
    it gives the same table; ``promtool tsdb create-blocks-from openmetrics`` turns it
    into TSDB blocks.

    Parameters
    ----------
    frame : polars or pandas DataFrame
        A metrics table (:data:`toolkit.schema.METRICS`). Counters must be named
        ``*_total`` to stay counters (OpenMetrics' rule); others are written as
        ``unknown``. ``resource.<key>`` columns are written as labels named by the key
        with every character not allowed in a label name replaced by ``_`` (as
        Prometheus's OTLP translation does).
    path : str or path-like
        The file to write (plain text; promtool does not read gzip).

    Raises
    ------
    ParameterError
        For a metric or label name that OpenMetrics 1.0 does not allow (e.g. dotted OTLP
        names: rename them first), or two columns that give the same label.

    Examples
    --------
    >>> import tempfile, pathlib, toolkit
    >>> text = '''# TYPE req_seconds histogram
    ... req_seconds_bucket{pool="a",le="0.5"} 2 1793577600000
    ... req_seconds_bucket{pool="a",le="+Inf"} 3 1793577600000
    ... req_seconds_count{pool="a"} 3 1793577600000
    ... '''
    >>> df = toolkit.parse_exposition(text)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "backfill.om"
    >>> write_openmetrics(df, p)
    >>> print(p.read_text(), end="")
    # TYPE req_seconds histogram
    req_seconds_bucket{pool="a",le="0.5"} 2.0 1793577600.000000000
    req_seconds_bucket{pool="a",le="+Inf"} 3.0 1793577600.000000000
    req_seconds_count{pool="a"} 3.0 1793577600.000000000
    # EOF
    >>> cols = ["time", "name", "type", "value", "le", "label.pool"]
    >>> toolkit.read_prometheus(p).select(cols).equals(df.select(cols))
    True
    """
    df = validate(frame, METRICS)
    labels: dict[str, str] = {}
    for column in df.columns:
        if column.startswith("label."):
            key = column.removeprefix("label.")
        elif column.startswith("resource."):
            key = re.sub(r"[^a-zA-Z0-9_]", "_", column.removeprefix("resource."))
            if key[:1].isdigit():
                key = f"_{key}"
        else:
            continue
        if not _LABEL_RE.match(key) or key in ("le", "__name__"):
            raise reject("frame", "have label columns whose names OpenMetrics allows", column)
        if key in labels.values():
            other = next(c for c, k in labels.items() if k == key)
            raise reject(
                "frame",
                f"not have two columns giving the label {key!r}",
                got=f"{column!r} and {other!r}",
            )
        labels[column] = key
    bad = df.filter(~pl.col("name").str.contains(_NAME_RE))["name"].unique()
    if bad.len():
        raise reject(
            "frame",
            "have metric names OpenMetrics 1.0 allows ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            got=preview(bad.sort().to_list()),
            hint="Rename them (e.g. dots to underscores) first.",
        )
    names = df.select("name", "type").unique()
    fams = [_family(n, t) for n, t in names.iter_rows()]
    families = names.with_columns(
        pl.Series("family", [f for f, _ in fams], dtype=pl.String),
        pl.Series("family_type", [t for _, t in fams], dtype=pl.String),
    )
    pairs = [
        pl.when(pl.col(c).is_not_null()).then(
            pl.concat_str(pl.lit(f'{k}="'), _escape(pl.col(c).cast(pl.String)), pl.lit('"'))
        )
        for c, k in labels.items()
    ]
    le = pl.when(pl.col("le").is_not_null()).then(
        pl.concat_str(pl.lit('le="'), _number(pl.col("le")), pl.lit('"'))
    )
    ns = pl.col("time").dt.epoch("ns")
    body = (
        df.join(families, on=["name", "type"], how="left")
        .with_columns(
            pl.concat_list([*pairs, pl.lit(None, dtype=pl.String)])
            .list.drop_nulls()
            .list.join(",")
            .alias("_key")
        )
        .with_columns(
            pl.concat_list([*pairs, le]).list.drop_nulls().list.join(",").alias("_labels")
        )
        .with_columns(
            pl.concat_str(
                "name",
                pl.when(pl.col("_labels") != "")
                .then(pl.concat_str(pl.lit("{"), "_labels", pl.lit("}")))
                .otherwise(pl.lit("")),
                pl.lit(" "),
                _number(pl.col("value")),
                pl.lit(" "),
                (ns // _NS).cast(pl.String),
                pl.lit("."),
                (ns % _NS).cast(pl.String).str.zfill(9),
            ).alias("_line")
        )
    )
    units = (
        body.group_by("family")
        .agg(pl.col("unit").drop_nulls().first())
        .filter(pl.col("unit").is_not_null())
    )
    unit_of = dict(units.iter_rows())
    type_of = dict(families.select("family", "family_type").unique("family").iter_rows())
    out = Path(path)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        ordered = body.sort("family", "_key", "name", "le", "time", nulls_last=True)
        for (family,), group in ordered.group_by("family", maintain_order=True):
            fh.write(f"# TYPE {family} {type_of[family]}\n")
            unit = unit_of.get(family)
            if unit and re.fullmatch(r"[a-zA-Z0-9_:]+", unit) and family.endswith(f"_{unit}"):
                fh.write(f"# UNIT {family} {unit}\n")
            fh.write("\n".join(group["_line"].to_list()))
            fh.write("\n")
        fh.write("# EOF\n")
