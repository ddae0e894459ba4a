"""A folder of exports -> a catalog of canonical tables, found by content and de-duplicated.

:func:`discover` walks a folder (recursively, any names, any nesting), tells each file's table
and format from its content (:func:`toolkit.ingest.detect.detect`), loads each table once, and
removes the records that several files hold twice (the same span exported as JSON lines and as
protobuf), with a counted note. The :class:`Catalog` it returns says what each file held, which
analyses its tables support and, for the others, what is missing and how to get it. The
notebooks and ``genai-sre summary`` start from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._validation import OneOf, UTCTime, reject, utc_time, validate_params
from toolkit.errors import (
    FormatError,
    MissingTableError,
    MissingTimeError,
    ParameterError,
    UnsupportedFormatError,
)
from toolkit.ingest._frames import ON_ERROR, LoadContext, combine, finish
from toolkit.ingest._io import PathLike, expand_paths
from toolkit.ingest.detect import detect
from toolkit.schema import TABLES, check_tz

__all__ = ["Catalog", "Support", "default_cache_dir", "dimensions", "discover"]

OnError = Literal["raise", "skip"]

#: The time column of each table (first, last) that a file's period is read from.
TIME_COLUMNS: Mapping[str, tuple[str, str]] = {
    "spans": ("start_time", "end_time"),
    "logs": ("time", "time"),
    "metrics": ("time", "time"),
    "gpu": ("time", "time"),
    "workload": ("arrival_time", "arrival_time"),
    "llm_calls": ("start_time", "start_time"),
    "predictions": ("time", "time"),
}

#: Columns that identify one record of a table across files; None: the whole row.
_RECORD_KEYS: Mapping[str, tuple[str, ...] | None] = {
    "spans": ("trace_id", "span_id", "start_time"),
}

#: What each table is, and how a user gets it, for the "skipped" explanations.
HOW_TO_GET: Mapping[str, str] = {
    "spans": (
        "export traces: the OpenTelemetry collector's file exporter (JSON lines or protobuf), "
        "Jaeger or Zipkin JSON, with a GenAI instrumentation of your model client "
        "(opentelemetry-instrumentation-openai-v2, OpenInference, OpenLLMetry)"
    ),
    "llm_calls": (
        "export traces whose spans describe model calls (gen_ai.* or OpenInference "
        "attributes): instrument the model client or the gateway"
    ),
    "logs": "export logs: the collector's file exporter (OTLP JSON lines), JSON-lines app logs "
    "or the vLLM server log",
    "metrics": "scrape vLLM's /metrics endpoint (Prometheus text) or export OTLP metrics",
    "gpu": "scrape dcgm-exporter or nvidia_gpu_exporter, or log "
    "`nvidia-smi --query-gpu=... --format=csv -l 60`",
    "workload": "a request-arrival trace (Azure LLM inference, BurstGPT, Mooncake ...) or "
    "traced LLM calls",
    "predictions": "export the model's prediction log as CSV or Parquet: one row per prediction "
    "with its time, score and label (empty until known), optionally label_time, model_version "
    "and the features",
}

_GENERATIONS: tuple[tuple[str, str], ...] = (
    ("attributes.gen_ai.provider.name", "gen_ai >= 1.37 (gen_ai.provider.name)"),
    ("attributes.gen_ai.usage.input_tokens", "gen_ai >= 1.28 (gen_ai.usage.input_tokens)"),
    ("attributes.gen_ai.usage.prompt_tokens", "gen_ai < 1.28 (gen_ai.usage.prompt_tokens)"),
    ("attributes.gen_ai.system", "gen_ai.system"),
    ("attributes.openinference.span.kind", "OpenInference"),
    ("attributes.llm.request.type", "OpenLLMetry"),
)


@dataclass(frozen=True)
class Support:
    """Whether a catalog holds what an analysis or a notebook section needs.

    Attributes
    ----------
    name : str
        The analysis or section.
    needs : str
        What it needs, in words.
    found : str
        What the catalog holds of that.
    missing : tuple of str
        What is missing; empty when the analysis can run.
    how : str
        How to get what is missing (empty when nothing is).
    """

    name: str
    needs: str
    found: str
    missing: tuple[str, ...] = ()
    how: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing

    def __str__(self) -> str:
        if self.ok:
            return f"{self.name}: supported ({self.found})"
        return (
            f"{self.name}: needs {self.needs}; found {self.found}; missing "
            f"{', '.join(self.missing)}" + (f". How to get it: {self.how}" if self.how else "")
        )


def _row_count(frame: pl.DataFrame) -> str:
    return f"{frame.height:,} row{'s' if frame.height != 1 else ''}"


class Catalog:
    """What a folder of exports holds: its files, its tables, and what they support.

    Made by :func:`discover`; not built by hand.

    Attributes
    ----------
    root : pathlib.Path
        The folder (or file) that was discovered.
    files : polars.DataFrame
        One row per file: ``path`` (relative to ``root``), ``table`` and ``format`` (null
        when no reader recognises it), ``rows``, ``start`` and ``end`` (UTC), ``duplicates``
        (records also held by an earlier file, counted once there), ``services``,
        ``naming`` (GenAI semantic-convention generations seen) and ``status``
        ("loaded", "unrecognised", "needs a parameter", "failed") with a ``note``.
    notes : tuple of str
        What discovery did that a reader should know: de-duplication, files left out.
    """

    def __init__(
        self,
        root: Path,
        files: pl.DataFrame,
        tables: dict[str, pl.DataFrame],
        notes: Sequence[str],
        cache: _Cache | None = None,
    ) -> None:
        self.root = root
        self._cache = cache or _Cache(None)
        self.files = files
        self.notes = tuple(notes)
        self._tables = tables
        self._derived: dict[str, pl.DataFrame] = {}

    # --- tables ---------------------------------------------------------------------------

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of the tables present (``llm_calls`` when the spans hold model calls)."""
        names = [n for n in TABLES if n != "llm_calls" and self._has_rows(n)]
        if self._has_rows("llm_calls"):
            names.insert(1 if "spans" in names else 0, "llm_calls")
        return tuple(names)

    def _has_rows(self, name: str) -> bool:
        if name == "llm_calls":
            return "spans" in self._tables and self._llm_calls().height > 0
        return name in self._tables and self._tables[name].height > 0

    def has(self, name: str) -> bool:
        """Whether the catalog holds a non-empty table ``name``."""
        return self._has_rows(name)

    def _llm_calls(self) -> pl.DataFrame:
        if "llm_calls" not in self._derived:
            from toolkit.llm import llm_calls

            spans = self._tables["spans"]
            # content log events (openai-v2's) join their calls by span id
            logs = self._tables.get("logs")
            if logs is not None and (logs.height == 0 or logs["span_id"].is_null().all()):
                logs = None
            key = None
            if self._cache.root is not None:
                from toolkit import __version__

                digest = hashlib.sha256(
                    f"llm_calls {CACHE_VERSION} {__version__} {pl.__version__}".encode()
                )
                digest.update(spans.hash_rows().to_numpy().tobytes())
                if logs is not None:
                    digest.update(logs.hash_rows().to_numpy().tobytes())
                key = digest.hexdigest()[:40]
            self._derived["llm_calls"] = self._cache.fetch(key, lambda: llm_calls(spans, logs=logs))
        return self._derived["llm_calls"]

    @validate_params(name=OneOf(*sorted(TABLES)))
    def table(self, name: str) -> pl.DataFrame:
        """The loaded, de-duplicated table ``name`` (``llm_calls`` is derived from spans).

        Raises
        ------
        MissingTableError
            When the folder holds no such table: the message lists what it holds and how
            to get the one asked for.
        """
        if not self._has_rows(name):
            held = ", ".join(self.tables) or "no telemetry table"
            raise MissingTableError(
                f"{self.root} holds no {name} table (it holds {held}). To get one: "
                f"{HOW_TO_GET[name]}."
            )
        if name == "llm_calls":
            return self._llm_calls()
        return self._tables[name]

    @property
    def period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and last time any loaded table covers (UTC)."""
        loaded = self.files.filter(pl.col("status") == "loaded")
        return loaded["start"].min(), loaded["end"].max()  # type: ignore[return-value]

    # --- what the tables support -------------------------------------------------------------

    def check(
        self,
        table: str,
        *,
        columns: Sequence[str] = (),
        any_columns: Sequence[str] = (),
        series: Sequence[str] = (),
        min_rows: int = 1,
        name: str | None = None,
        needs: str | None = None,
        how: str | None = None,
    ) -> Support:
        """Whether the catalog holds ``table`` with the columns, series and rows asked for.

        Parameters
        ----------
        table : str
            A canonical table (``"llm_calls"``, ``"metrics"`` ...).
        columns : sequence of str
            Columns that must be present with at least one non-null value.
        any_columns : sequence of str
            Columns of which at least one must be present with a non-null value.
        series : sequence of str
            For ``metrics``: metric names of which at least one must be present (a
            histogram's ``_bucket`` series counts for its name).
        min_rows : int, default 1
            The fewest rows that make the analysis meaningful.
        name, needs, how : str, optional
            Words for the result: the section's name, what it needs, how to get it.

        Returns
        -------
        Support
        """
        title = name or table
        what = needs or _needs_text(table, columns, any_columns, series, min_rows)
        get = how or HOW_TO_GET.get(table, "")
        if not self._has_rows(table):
            held = ", ".join(self.tables) or "no telemetry table"
            return Support(
                title, what, f"no {table} table (the folder holds {held})", (table,), get
            )
        frame = self.table(table)
        missing: list[str] = []
        present = [
            c for c in columns if c in frame.columns and frame[c].null_count() < frame.height
        ]
        missing += [c for c in columns if c not in present]
        if any_columns and not any(
            c in frame.columns and frame[c].null_count() < frame.height for c in any_columns
        ):
            missing.append(" or ".join(any_columns))
        found_series: list[str] = []
        if series and table == "metrics":
            names = set(frame["name"].unique().to_list())
            found_series = [s for s in series if s in names or f"{s}_bucket" in names]
            if not found_series:
                missing.append(" or ".join(series))
        rows = frame.height
        if rows < min_rows:
            missing.append(f"at least {min_rows:,} rows")
        found = f"{table} with {rows:,} rows"
        if found_series:
            found += " (" + ", ".join(found_series) + ")"
        return Support(title, what, found, tuple(missing), get if missing else "")

    @property
    def supports(self) -> dict[str, Support]:
        """Each analysis of the toolkit, and whether this catalog's tables support it."""
        from toolkit import semconv

        calls_ok = self._has_rows("llm_calls")
        out = {
            "overview": Support(
                "overview",
                "any telemetry table",
                ", ".join(self.tables) or "nothing recognised",
                () if self.tables else ("a telemetry table",),
                "" if self.tables else "; ".join(HOW_TO_GET.values()),
            ),
            "slo": self._either(
                "slo",
                self.check("llm_calls", columns=["latency_s"]),
                self.check(
                    "metrics",
                    series=[
                        "vllm:e2e_request_latency_seconds",
                        "vllm:time_to_first_token_seconds",
                        "vllm:request_success_total",
                    ],
                ),
            ),
            "traces": self._span_trees(),
            "explain": self.check("llm_calls", columns=["latency_s"], min_rows=200, name="explain"),
            "fairness": self._fairness(calls_ok),
            "drift": self.check("llm_calls", min_rows=100, name="drift"),
            "quality": self.check(
                "llm_calls",
                name="quality",
                any_columns=[c for c in self._columns("llm_calls") if c.startswith("eval.")]
                or ["eval.<name>", semconv.attribute_column("gen_ai.retrieval.documents")],
                needs="LLM calls with evaluation scores (gen_ai.evaluation.result events) or "
                "retrieved documents",
                how="record evaluations as gen_ai.evaluation.result span events, or capture "
                "retrieval spans with their documents",
            ),
            "capacity": self._either(
                "capacity",
                self.check("llm_calls", columns=["input_tokens"]),
                self.check("workload"),
            ),
            "gpu": self.check("gpu", name="gpu"),
            "performance": self.check(
                "predictions",
                columns=["label"],
                min_rows=100,
                name="performance",
                needs="a prediction log with scores (or features to fit one) and labels",
            ),
            "scale": self.check("spans", name="scale"),
        }
        return out

    def _columns(self, table: str) -> list[str]:
        return list(self.table(table).columns) if self._has_rows(table) else []

    def _either(self, name: str, *options: Support) -> Support:
        for option in options:
            if option.ok:
                return Support(name, " or ".join(o.needs for o in options), option.found)
        return Support(
            name,
            " or ".join(o.needs for o in options),
            "; ".join(o.found for o in options),
            (" or ".join(", ".join(o.missing) for o in options),),
            " Or: ".join(o.how for o in options if o.how),
        )

    def _span_trees(self) -> Support:
        needs = "spans with parent-child links (traces of more than one span)"
        if not self._has_rows("spans"):
            return self.check("spans", name="traces", needs=needs)
        spans = self._tables["spans"]
        linked = spans["parent_span_id"].is_not_null().sum()
        found = f"spans with {spans.height:,} rows, {linked:,} with a parent"
        if linked == 0:
            return Support(
                "traces",
                needs,
                found,
                ("child spans",),
                "propagate the trace context from the gateway to the model client "
                "and server, so their spans share a trace",
            )
        return Support("traces", needs, found)

    def _fairness(self, calls_ok: bool) -> Support:
        needs = "LLM calls with a group dimension (an attribute with a few values)"
        if not calls_ok:
            return self.check("llm_calls", name="fairness", needs=needs)
        dims = dimensions(self._llm_calls())
        found = f"llm_calls with {self._llm_calls().height:,} rows"
        if not dims:
            return Support(
                "fairness",
                needs,
                found + ", no attribute with few values",
                ("a group dimension",),
                "set user or request attributes (e.g. user.tier, user.locale) on "
                "the spans, or name a column",
            )
        return Support("fairness", needs, found + ", dimensions " + ", ".join(dims))

    # --- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        loaded = self.files.filter(pl.col("status") == "loaded").height
        return (
            f"Catalog(root={str(self.root)!r}, files={self.files.height}, loaded={loaded}, "
            f"tables={list(self.tables)})"
        )

    def _repr_html_(self) -> str:
        from toolkit._html import show

        parts = [
            f"<p><b>{html.escape(str(self.root))}</b>: {self.files.height} file(s); "
            f"tables {html.escape(', '.join(self.tables) or 'none')}</p>"
        ]
        parts.append(show(self.files.drop("services", "naming"), n=50)._repr_html_())
        if self.notes:
            parts.append(
                "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>"
            )
        return "".join(parts)


def _filled(frame: pl.DataFrame, column: str) -> bool:
    """Whether ``frame`` has ``column`` with at least one non-null value."""
    return column in frame.columns and frame[column].null_count() < frame.height


def _needs_text(
    table: str,
    columns: Sequence[str],
    any_columns: Sequence[str],
    series: Sequence[str],
    min_rows: int,
) -> str:
    parts = [f"the {table} table"]
    if columns:
        parts.append("with " + ", ".join(columns))
    if any_columns:
        parts.append("with one of " + ", ".join(any_columns))
    if series:
        parts.append("with one of the series " + ", ".join(series))
    if min_rows > 1:
        parts.append(f"of at least {min_rows:,} rows")
    return " ".join(parts)


def dimensions(
    frame: Any,
    *,
    max_values: int = 12,
    min_rows: int = 30,
    prefixes: Sequence[str] = ("attributes.", "resource."),
    exclude: Sequence[str] = (),
) -> list[str]:
    """Columns that make good slice or group dimensions: a few values, enough rows each.

    A column qualifies when it is a string or boolean attribute (one of ``prefixes``), has
    between 2 and ``max_values`` distinct non-null values, and every value that covers at
    least 1 % of the rows has ``min_rows`` rows or more. Identifiers (ids, names of spans,
    free text) have too many values and drop out on their own.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Usually ``llm_calls``.
    max_values : int, default 12
        The most distinct values a dimension may have.
    min_rows : int, default 30
        The fewest rows each common value must have.
    prefixes : sequence of str
        Column prefixes considered.
    exclude : sequence of str
        Columns never returned.

    Returns
    -------
    list of str
        The dimensions, the ones that split the rows most evenly first.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.user.tier": ["free", "pro"] * 50,
    ...                       "attributes.request.id": [str(i) for i in range(100)]})
    >>> dimensions(calls)
    ['attributes.user.tier']
    """
    from toolkit.schema import to_polars

    df = to_polars(frame, parameter="frame", function="dimensions")
    if df.height == 0:
        return []
    scored: list[tuple[float, str]] = []
    for name, dtype in df.schema.items():
        if not name.startswith(tuple(prefixes)) or name in exclude:
            continue
        if dtype not in (pl.String, pl.Boolean, pl.Categorical):
            continue
        counts = df[name].drop_nulls().value_counts()
        if not 2 <= counts.height <= max_values:
            continue
        common = counts.filter(pl.col("count") >= 0.01 * df.height)
        if common.height < 2 or common["count"].min() < min_rows:  # type: ignore[operator]
            continue
        share = common["count"] / common["count"].sum()
        entropy = float(-(share * share.log()).sum())
        scored.append((-entropy, name))
    return [name for _, name in sorted(scored)]


# --- discovery ---------------------------------------------------------------------------------


@dataclass
class _File:
    path: Path | str  # a str: the URL of a live source
    table: str | None = None
    format: str | None = None
    rows: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    duplicates: int = 0
    services: list[str] = field(default_factory=list)
    naming: list[str] = field(default_factory=list)
    status: str = "loaded"
    note: str | None = None


def _loader(table: str, options: Mapping[str, Any]) -> Callable[[Path], pl.DataFrame]:
    from toolkit.ingest.gpu import load_gpu
    from toolkit.ingest.predictions import load_predictions
    from toolkit.ingest.workloads import load_workload
    from toolkit.loaders import load_logs, load_metrics, load_spans

    on_error = options["on_error"]
    tz, host, time = options.get("tz"), options.get("host"), options.get("time")
    loaders: dict[str, Callable[[Path], pl.DataFrame]] = {
        "spans": lambda p: load_spans(p, on_error=on_error, progress=False),
        "logs": lambda p: load_logs(
            p, tz=tz, year=options.get("year"), on_error=on_error, progress=False
        ),
        "metrics": lambda p: load_metrics(p, time=time, on_error=on_error, progress=False),
        "gpu": lambda p: load_gpu(p, tz=tz, host=host, time=time, on_error=on_error),
        "workload": lambda p: load_workload(p, tz=tz, on_error=on_error),
        "predictions": lambda p: load_predictions(p, tz=tz),
    }
    return loaders[table]


# --- the cache of loaded files -------------------------------------------------------------

#: Bumped when a reader's output changes, so that older cached tables are not reused.
CACHE_VERSION = 1

#: The most bytes the cache keeps; the least recently used entries go first.
CACHE_LIMIT_BYTES = 2 << 30


def default_cache_dir() -> Path:
    """Where :func:`discover` caches loaded files: ``$TOOLKIT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/genai-sre-toolkit``, else ``~/.cache/genai-sre-toolkit``."""
    explicit = os.environ.get("TOOLKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "genai-sre-toolkit"


class _Cache:
    """Loaded files as Parquet, keyed by the file's content and the loader's options.

    Only loads that raised no warning are kept (a skip or a type promotion is said again
    on the next load); a damaged entry is ignored and rewritten.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def key(self, file: Path, table: str, fmt: str, options: Mapping[str, Any]) -> str | None:
        if self.root is None:
            return None
        from toolkit import __version__

        digest = hashlib.sha256()
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        meta = json.dumps(
            [CACHE_VERSION, __version__, table, fmt, sorted(options.items())], default=str
        )
        digest.update(meta.encode())
        return digest.hexdigest()[:40]

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / f"{key}.parquet"

    def get(self, key: str | None) -> pl.DataFrame | None:
        if key is None:
            return None
        path = self._path(key)
        try:
            frame = pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError):
            return None
        with _suppress_os_errors():
            os.utime(path)
        return frame

    def put(self, key: str | None, frame: pl.DataFrame) -> None:
        if key is None or self.root is None:
            return
        with _suppress_os_errors():
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
            os.close(fd)
            try:
                frame.write_parquet(tmp, compression="zstd")
                os.replace(tmp, self._path(key))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self._trim()

    def fetch(self, key: str | None, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """The frame cached under ``key``, else ``compute()``: its warnings are raised
        again, and it is kept only when it raised none."""
        cached = self.get(key)
        if cached is not None:
            return cached
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = compute()
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if not caught:
            self.put(key, frame)
        return frame

    def _trim(self) -> None:
        assert self.root is not None
        entries = sorted(
            (e.stat().st_mtime, e.stat().st_size, e) for e in self.root.glob("*.parquet")
        )
        total = sum(size for _, size, _ in entries)
        for _, size, entry in entries:
            if total <= CACHE_LIMIT_BYTES:
                break
            entry.unlink(missing_ok=True)
            total -= size


class _suppress_os_errors:
    """A cache that cannot be written (read-only home, full disk) only costs speed."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, OSError)


def _cache_root(cache: bool | PathLike | None) -> Path | None:
    if cache is None or cache is True:
        return default_cache_dir()
    if cache is False:
        return None
    if isinstance(cache, str | os.PathLike):
        return Path(os.fspath(cache))
    raise reject(
        "cache", "be True, False or a directory", got=type(cache).__name__, function="discover"
    )


def _load_file(
    file: Path, table: str, fmt: str, options: Mapping[str, Any], cache: _Cache
) -> pl.DataFrame:
    """Load one file with its table's loader, through the cache."""
    key = cache.key(file, table, fmt, options)
    return cache.fetch(key, lambda: _loader(table, options)(file))


def _naming(frame: pl.DataFrame) -> list[str]:
    return [label for column, label in _GENERATIONS if _filled(frame, column)]


def _services(frame: pl.DataFrame) -> list[str]:
    if "service_name" not in frame.columns:
        return []
    return sorted(str(s) for s in frame["service_name"].drop_nulls().unique().to_list())


def _describe(entry: _File, frame: pl.DataFrame) -> None:
    first, last = TIME_COLUMNS[entry.table or "spans"]
    entry.rows = frame.height
    entry.start = frame[first].min() if frame.height else None  # type: ignore[assignment]
    entry.end = frame[last].max() if frame.height else None  # type: ignore[assignment]
    entry.services = _services(frame)
    entry.naming = _naming(frame) if entry.table == "spans" else []


def _deduplicate(
    table: str, frames: list[tuple[int, pl.DataFrame]], entries: list[_File]
) -> tuple[pl.DataFrame, str | None]:
    """Stack one table's per-file frames, keeping each record once (in its first file)."""
    from toolkit.schema import TABLES as _TABLES

    ctx = LoadContext(f"discover ({table})")
    tagged = [f.with_columns(pl.lit(i, dtype=pl.Int32).alias("__file")) for i, f in frames]
    stacked = combine(tagged, _TABLES[table], ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        finish(ctx, None, stacked.height)
    if len(frames) < 2 or stacked.height == 0:
        return stacked.drop("__file"), None
    key = _RECORD_KEYS.get(table) or [c for c in stacked.columns if c != "__file"]
    first_file = pl.col("__file").min().over(list(key))
    kept = stacked.filter(pl.col("__file") == first_file)
    dropped = stacked.height - kept.height
    if dropped == 0:
        return kept.drop("__file"), None
    per_file = stacked.filter(pl.col("__file") != first_file).group_by("__file").len().rows()
    names = []
    for index, count in sorted(per_file):
        entries[index].duplicates = count
        names.append(f"{entries[index].path} ({count:,})")
    records = {
        "logs": "log records",
        "metrics": "metric samples",
        "gpu": "GPU samples",
        "workload": "request arrivals",
        "predictions": "predictions",
    }
    what = (
        "spans (same trace id, span id and start time)"
        if table == "spans"
        else f"{records.get(table, table + ' records')} (identical rows)"
    )
    note = (
        f"{dropped:,} {what} were also held by an earlier file and are counted once: "
        + ", ".join(names)
    )
    return kept.drop("__file"), note


#: The series discover reads from a live Prometheus when no query is given: vLLM's, the
#: DCGM exporter's and the OpenTelemetry GenAI metrics as Prometheus names them.
LIVE_METRICS_QUERY = '{__name__=~"vllm:.+|DCGM_FI_.+|gen_ai_.+"}'
#: The streams discover reads from Loki when no query is given: every service (Loki's OTLP
#: ingestion gives each stream a service_name).
LIVE_LOGS_QUERY = '{service_name=~".+"}'
#: The period read from live sources when discover is given neither start nor end.
LIVE_DEFAULT_PERIOD = dt.timedelta(days=7)


def _live_tables(
    sources: Sequence[tuple[str, str, str | None, Mapping[str, Any] | None]],
    t0: dt.datetime | None,
    t1: dt.datetime | None,
    on_error: str,
) -> tuple[list[tuple[_File, pl.DataFrame | None]], list[str]]:
    """Read each live source (kind, url, query, options) over [t0, t1): entries, notes."""
    from toolkit.errors import RemoteError
    from toolkit.ingest._http import connection
    from toolkit.ingest.loki import read_loki
    from toolkit.ingest.prometheus_api import read_prometheus_api

    notes: list[str] = []
    if t1 is None:
        t1 = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    if t0 is None:
        t0 = t1 - LIVE_DEFAULT_PERIOD
        notes.append(
            f"live sources read from {t0:%Y-%m-%d %H:%M} to {t1:%Y-%m-%d %H:%M} UTC (the last "
            f"{LIVE_DEFAULT_PERIOD.days} days): give start= and end= for another period"
        )
    out: list[tuple[_File, pl.DataFrame | None]] = []
    import inspect

    for kind, url, query, options in sources:
        opts = dict(options or {})
        reader = read_prometheus_api if kind == "prometheus" else read_loki
        allowed = set(inspect.signature(reader).parameters) - {"url", "query", "start", "end"}
        if set(opts) - allowed:
            raise reject(
                f"{kind}_options",
                f"name options of {reader.__name__} among {sorted(allowed)}",
                sorted(set(opts) - allowed),
                function="discover",
            )
        shown = connection(url, function="discover", parameter=kind).shown
        table = "metrics" if kind == "prometheus" else "logs"
        entry = _File(shown, table=table, format=f"{kind}-api")
        try:
            if kind == "prometheus":
                frame = read_prometheus_api(
                    url, query=query or LIVE_METRICS_QUERY, start=t0, end=t1, **opts
                )
            else:
                frame = read_loki(url, query=query or LIVE_LOGS_QUERY, start=t0, end=t1, **opts)
        except RemoteError as exc:
            if on_error == "raise":
                raise
            entry.status, entry.note = "failed", str(exc)
            out.append((entry, None))
            continue
        _describe(entry, frame)
        out.append((entry, frame))
    return out, notes


@validate_params(start=[UTCTime(), None], end=[UTCTime(), None], on_error=ON_ERROR)
def discover(
    path: PathLike | Sequence[PathLike] | None,
    *,
    tz: str | None = None,
    host: str | None = None,
    year: int | None = None,
    scrape_time: dt.datetime | str | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    on_error: OnError = "raise",
    cache: bool | PathLike | None = True,
    prometheus: str | None = None,
    prometheus_query: str | None = None,
    prometheus_options: Mapping[str, Any] | None = None,
    loki: str | None = None,
    loki_query: str | None = None,
    loki_options: Mapping[str, Any] | None = None,
) -> Catalog:
    """Find every export in a folder by content, load each table once, de-duplicated.

    Every file under ``path`` (recursively; hidden files are skipped) is read by the
    reader its content calls for, whatever its name. Files of the same table are loaded
    into one canonical table, and records that several files hold (the same span exported
    as JSON lines and as protobuf: same trace id, span id and start time; for other tables,
    identical rows) are kept once, with a counted note. Files no reader recognises are
    listed as "unrecognised" and left out; files that need a parameter (a time zone for
    nvidia-smi or vLLM text logs) are listed as "needs a parameter" with what to set.

    Parameters
    ----------
    path : str, path-like, a sequence of them, or None
        A folder, a file, a glob pattern, or a list of those; None when every table comes
        from live sources (``prometheus``, ``loki``).
    tz : str, optional
        IANA time zone of files whose timestamps carry none (nvidia-smi logs, vLLM text
        logs, some workload traces).
    host : str, optional
        Host name given to nvidia-smi rows (the log does not name its host).
    year : int, optional
        Year of the first record of text logs whose timestamps carry none (vLLM's).
    scrape_time : datetime or ISO-8601 str with a zone, optional
        Time of Prometheus scrapes whose samples carry no timestamp (a saved ``/metrics``
        page); without it such files are listed as "needs a parameter" unless their name
        carries the scrape time.
    start, end : datetime or ISO-8601 str with a zone, optional
        Keep only records in [start, end) (by each table's time column).
    on_error : {"raise", "skip"}, default "raise"
        "raise": a damaged file raises its :class:`~toolkit.errors.FormatError`. "skip":
        bad records are skipped and counted by the loaders, and a file from which nothing
        could be read is listed as "failed" with its error.
    cache : bool or path-like, default True
        Keep each loaded file as Parquet, keyed by its content and these options, so that
        the next discovery of the same file (the next notebook) reads it in a fraction of
        the time: True uses :func:`default_cache_dir`, a path another directory, False
        turns it off. Loads that warned are not kept; the cache holds at most
        :data:`CACHE_LIMIT_BYTES`, the least recently used entries going first.
    prometheus : str, optional
        Base URL of a live Prometheus-compatible API whose series join the ``metrics``
        table (read by :func:`toolkit.read_prometheus_api`, raw samples): the series of
        ``prometheus_query`` (default :data:`LIVE_METRICS_QUERY`: vLLM, DCGM, GenAI) over
        ``[start, end)`` (default: the last seven days). They are listed in
        ``Catalog.files`` under the URL and de-duplicated against files like any file.
    prometheus_options : mapping, optional
        Options of :func:`toolkit.read_prometheus_api` (``bearer_token``, ``headers``,
        ``ca_file``, ``chunk`` ...).
    loki, loki_query, loki_options
        The same for Grafana Loki and the ``logs`` table (:func:`toolkit.read_loki`;
        default query :data:`LIVE_LOGS_QUERY`, every service).

    Returns
    -------
    Catalog
        ``.files``, ``.table(name)``, ``.tables``, ``.supports``, ``.check(...)``,
        ``.notes``.

    Raises
    ------
    ParameterError
        For a path that does not exist or holds no file, or a bad parameter.
    FormatError
        For a damaged file under ``on_error="raise"``.

    Examples
    --------
    >>> import json, pathlib, shutil, tempfile
    >>> span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
    ...         "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1544712660000000000",
    ...         "endTimeUnixNano": "1544712661500000000",
    ...         "attributes": [{"key": "gen_ai.operation.name",
    ...                         "value": {"stringValue": "chat"}}]}
    >>> line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a").mkdir()
    >>> _ = (folder / "a" / "export-1.json").write_text(line + "\\n")
    >>> _ = shutil.copy(folder / "a" / "export-1.json", folder / "copy.log")
    >>> _ = (folder / "notes.txt").write_text("hello")
    >>> catalog = discover(folder)
    >>> catalog.files.select("path", "table", "rows", "duplicates", "status").rows()
    [('a/export-1.json', 'spans', 1, 0, 'loaded'), ('copy.log', 'spans', 1, 1, 'loaded'), \
('notes.txt', None, None, 0, 'unrecognised')]
    >>> catalog.table("spans").height, catalog.tables
    (1, ('spans', 'llm_calls'))
    >>> catalog.supports["traces"].ok, catalog.supports["traces"].missing
    (False, ('child spans',))
    """
    tz = check_tz(tz, "discover")
    t0 = None if start is None else utc_time(start, parameter="start")
    t1 = None if end is None else utc_time(end, parameter="end")
    live = [
        (kind, url, query, opts)
        for kind, url, query, opts in (
            ("prometheus", prometheus, prometheus_query, prometheus_options),
            ("loki", loki, loki_query, loki_options),
        )
        if url is not None
    ]
    if path is None and not live:
        raise reject(
            "path", "name exported files when neither 'prometheus' nor 'loki' is given", None
        )
    try:
        files = [] if path is None else expand_paths(path, function="discover")
    except ParameterError:
        # An empty folder is fine when the tables come from live sources.
        if not (live and isinstance(path, str | os.PathLike) and Path(path).is_dir()):
            raise
        files = []
    root = Path(os.fspath(path)) if isinstance(path, str | os.PathLike) else Path(os.getcwd())
    base = root if root.is_dir() else root.parent
    options = {
        "on_error": on_error,
        "tz": tz,
        "host": host,
        "year": year,
        "time": scrape_time,
    }
    store = _Cache(_cache_root(cache))
    entries: list[_File] = []
    by_table: dict[str, list[tuple[int, pl.DataFrame]]] = {}
    notes: list[str] = []
    for file in files:
        rel = Path(os.path.relpath(file, base)) if file.is_relative_to(base) else file
        entry = _File(rel)
        entries.append(entry)
        try:
            found = detect(file)
        except UnsupportedFormatError:
            entry.status, entry.note = "unrecognised", "no reader recognises its content"
            continue
        except FormatError as exc:
            if on_error == "raise":
                raise
            entry.status, entry.note = "failed", exc.problem
            continue
        entry.table, entry.format = found.table, found.format
        if found.format == "servegen":
            entry.status = "not loaded"
            entry.note = "ServeGen per-window statistics: read with toolkit.read_servegen"
            continue
        try:
            frame = _load_file(file, found.table, found.format, options, store)
        except ParameterError as exc:
            entry.status, entry.note = "needs a parameter", str(exc)
            continue
        except MissingTimeError as exc:
            entry.status = "needs a parameter"
            entry.note = f"{exc} (discover and the notebooks take it as scrape_time)"
            continue
        except FormatError as exc:
            if on_error == "raise":
                raise
            entry.status, entry.note = "failed", str(exc)
            continue
        frame = _window(frame, found.table, t0, t1)
        _describe(entry, frame)
        by_table.setdefault(found.table, []).append((len(entries) - 1, frame))
    if live:
        read, live_notes = _live_tables(live, t0, t1, on_error)
        notes.extend(live_notes)
        for live_entry, live_frame in read:
            entries.append(live_entry)
            if live_frame is not None and live_entry.table is not None:
                by_table.setdefault(live_entry.table, []).append((len(entries) - 1, live_frame))
    tables: dict[str, pl.DataFrame] = {}
    for table, frames in by_table.items():
        tables[table], note = _deduplicate(table, frames, entries)
        if note:
            notes.append(note)
    for status in ("unrecognised", "needs a parameter", "failed", "not loaded"):
        left = [e for e in entries if e.status == status]
        if left:
            shown = ", ".join(str(e.path) for e in left[:5])
            more = f" and {len(left) - 5} more" if len(left) > 5 else ""
            notes.append(f"{len(left)} file(s) {status}, left out: {shown}{more}")
    asks = [e.note for e in entries if e.status == "needs a parameter" and e.note]
    notes.extend(asks[:3])
    if len(asks) > 3:
        notes.append(f"({len(asks) - 3} more file(s) need a parameter: see Catalog.files)")
    return Catalog(base, _files_frame(entries), tables, notes, store)


def _window(
    frame: pl.DataFrame, table: str, t0: dt.datetime | None, t1: dt.datetime | None
) -> pl.DataFrame:
    column = TIME_COLUMNS[table][0]
    if t0 is not None:
        frame = frame.filter(pl.col(column) >= t0)
    if t1 is not None:
        frame = frame.filter(pl.col(column) < t1)
    return frame


def _files_frame(entries: list[_File]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "path": [e.path if isinstance(e.path, str) else e.path.as_posix() for e in entries],
            "table": [e.table for e in entries],
            "format": [e.format for e in entries],
            "rows": [e.rows for e in entries],
            "start": [e.start for e in entries],
            "end": [e.end for e in entries],
            "duplicates": [e.duplicates for e in entries],
            "services": [e.services for e in entries],
            "naming": [e.naming for e in entries],
            "status": [e.status for e in entries],
            "note": [e.note for e in entries],
        },
        schema={
            "path": pl.String,
            "table": pl.String,
            "format": pl.String,
            "rows": pl.Int64,
            "start": pl.Datetime("ns", "UTC"),
            "end": pl.Datetime("ns", "UTC"),
            "duplicates": pl.Int64,
            "services": pl.List(pl.String),
            "naming": pl.List(pl.String),
            "status": pl.String,
            "note": pl.String,
        },
    )
