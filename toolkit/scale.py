"""Scale past one machine: a partitioned Parquet store filled and queried with Dask.

The same analyses as on a laptop, over a fleet's exports, on a Dask cluster
(``dask.distributed``: a laptop's ``LocalCluster``, Kubernetes, YARN, ...).

Store layout
------------
``STORE/<table>/date=YYYY-MM-DD/service=<name>/part-<content id>.parquet``: one Parquet
part per source file and partition, ``date`` the UTC day of ``start_time`` (spans) or
``time`` (logs, metrics) and ``<name>`` the percent-encoded ``service_name``
(``__HIVE_DEFAULT_PARTITION__`` when null). The part keeps every canonical column,
``service_name`` included, so a part read alone is a complete table. The content id is
the start of the SHA-256 of the source file's bytes: the same export ingested again,
from any path, overwrites its own parts and never duplicates them.

``STORE/_manifest/<table>.json`` records each source (URL or absolute path, size, a
modification stamp and its SHA-256) and each content (its parts and rows). It is written
by the driver only, atomically, after a file's parts are all on disk: a run interrupted
anywhere resumes without loss or duplicates, and a re-run only reads sources that are new
or changed; a moved or copied export is recognised by its hash and not parsed again.
``STORE/_manifest/<table>.lock`` is held while an ingest runs: a second ingest into the
same table fails at once rather than deleting the first one's in-flight parts.

The store and the sources may be local paths or fsspec URLs (``s3://bucket/prefix``,
``gs://...``, ``abfs://...``; the filesystem's package, e.g. ``s3fs``, must be
installed and its credentials configured as usual for it, e.g. in the environment).
Workers copy a remote source to local scratch space, hashing it on the way, and run the
normal loaders on the copy.

Reading
-------
:func:`scan` gives a polars LazyFrame (partitions outside ``filters`` are never opened;
later projections and predicates are pushed into the Parquet reads); :func:`to_dask`
gives a ``dask.dataframe`` with one partition per part, for the cluster.

Mergeable aggregations
----------------------
:func:`minute_counts` (good/total per minute, for SLIs and burn rates),
:func:`group_counts` (fairness group counts), :func:`histogram` (drift histograms) and
:func:`latency_sketches` / :func:`latency_percentiles` (:class:`DDSketch`, relative error
``alpha``) are computed per part, on the cluster when a client is given, and merged by
adding counts; the single-machine path computes the same partials on the whole scan, so
both give the same counts exactly and the same sketches. :func:`burn_rates`,
:func:`alerts` and :func:`drift` turn them into the answers of :mod:`toolkit.slo` and
:mod:`toolkit.drift`.

Cluster
-------
Start one on a laptop, or attach to a running scheduler (Kubernetes, YARN, ...)::

    from distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))  # or Client("tcp://host:8786")
    print(client.dashboard_link)
    scale.ingest("exports/", "store/", client=client)

``genai-sre ingest SRC --store DIR [--scheduler ADDRESS]`` does the same from a shell.

Dask is an optional dependency (the ``scale`` extra); it is imported only where a client
or cluster is used.
"""

from __future__ import annotations

import datetime as dt
import glob as globlib
import hashlib
import json
import math
import os
import posixpath
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import polars as pl

from toolkit._progress import Progress
from toolkit._scale_base import TABLES, TIME, TableName, check_filters, check_table
from toolkit._scale_stats import (
    DimensionDrift,
    GroupGap,
    _check_edges,
    alerts,
    burn_rates,
    drift,
    group_gaps,
    most_drifted,
)
from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    StaleLockWarning,
    StoreLockedError,
    ToolkitError,
    TypePromotionWarning,
)
from toolkit.ingest._frames import order_columns, unify_dtypes
from toolkit.ingest._io import PathLike, expand_paths

__all__ = [
    "DDSketch",
    "DimensionDrift",
    "FleetPlan",
    "GroupGap",
    "IngestResult",
    "StaleLockWarning",
    "StoreLockedError",
    "alerts",
    "burn_rates",
    "compare_percentiles",
    "connect",
    "drift",
    "exact_percentiles",
    "group_counts",
    "group_gaps",
    "histogram",
    "ingest",
    "ingest_runs",
    "latency_percentiles",
    "latency_sketches",
    "minute_counts",
    "most_drifted",
    "pages_by",
    "plan",
    "register_cli",
    "scan",
    "sources_support",
    "span_sources",
    "to_dask",
]

OnError = Literal["raise", "skip"]
_NULL = "__HIVE_DEFAULT_PARTITION__"
_MANIFEST_VERSION = 2
_ID_CHARS = 20  # hex digits of the SHA-256 naming a content's parts (80 bits)
_WARNINGS_LOCK = threading.Lock()
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB_CHARS = "*?["
# protocols polars reads natively (object_store): parts are scanned lazily by URL
_POLARS_NATIVE = {"s3", "s3a", "gs", "gcs", "gcp", "az", "azure", "abfs", "abfss", "adl"}


def _is_url(text: str) -> bool:
    return _URL.match(text) is not None and not text.startswith("file://")


def _local_path(text: str) -> str:
    return text[len("file://") :] if text.startswith("file://") else text


# --- the store's filesystem -----------------------------------------------------------


@dataclass(frozen=True)
class _Store:
    """A store root on the local disk or on any fsspec filesystem (picklable)."""

    fs: Any  # fsspec filesystem; None for the local disk
    root: str  # the root's path (no trailing slash)
    protocol: str  # "" for the local disk

    @property
    def local(self) -> bool:
        return self.fs is None

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def url(self, rel: str) -> str:
        """Where ``rel`` is, as the user would write it (for messages and readers)."""
        p = self.path(rel)
        return p if self.local else str(self.fs.unstrip_protocol(p))

    def read(self, rel: str) -> bytes | None:
        try:
            if self.local:
                return Path(self.path(rel)).read_bytes()
            data: bytes = self.fs.cat_file(self.path(rel))
            return data
        except FileNotFoundError:
            return None

    def write(self, rel: str, write: Callable[[IO[bytes]], Any]) -> None:
        """Write ``rel`` so that readers see the old object or the whole new one.

        Locally: a temporary file, fsynced, renamed over the target. On an object store:
        a direct upload, which the store publishes only once complete.
        """
        target = self.path(rel)
        parent, name = target.rsplit("/", 1)
        if self.local:
            os.makedirs(parent, exist_ok=True)
            tmp = f"{parent}/.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
            try:
                with open(tmp, "wb") as f:
                    write(f)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            return
        self.fs.makedirs(parent, exist_ok=True)
        with self.fs.open(target, "wb") as f:
            write(f)

    def create(self, rel: str, data: bytes) -> None:
        """Create ``rel`` holding ``data``; FileExistsError if it exists.

        Exclusive where the filesystem can do it (local disk, memory, object stores with
        conditional writes); otherwise a check then a write, which a simultaneous start on
        another machine can race.
        """
        target = self.path(rel)
        parent = target.rsplit("/", 1)[0]
        if self.local:
            os.makedirs(parent, exist_ok=True)
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return
        self.fs.makedirs(parent, exist_ok=True)
        try:
            with self.fs.open(target, "xb") as f:
                f.write(data)
        except (ValueError, NotImplementedError, TypeError):  # no exclusive mode here
            if self.fs.exists(target):
                raise FileExistsError(target) from None
            self.fs.pipe_file(target, data)

    def remove(self, rel: str) -> None:
        try:
            if self.local:
                os.unlink(self.path(rel))
            else:
                self.fs.rm_file(self.path(rel))
        except FileNotFoundError:
            pass

    def listing(self, table: str) -> list[str]:
        """Every file under ``table``'s partitions, relative to the table's directory."""
        base = self.path(table)
        if self.local:
            pattern = f"{globlib.escape(base)}/date=*/service=*/*"
            found = globlib.glob(pattern) + globlib.glob(pattern[:-1] + ".*")
        else:
            found = self.fs.glob(f"{base}/date=*/service=*/*")
        return sorted({posixpath.relpath(p, base) for p in found})

    def source(self, rel: str) -> Any:
        """What polars reads ``rel`` from: a path, a URL it reads natively, or a file."""
        if self.local:
            return self.path(rel)
        if self.protocol in _POLARS_NATIVE:
            return self.url(rel)
        return self.fs.open(self.path(rel), "rb")


def _open_store(store: PathLike) -> _Store:
    text = os.fspath(store)
    if not _is_url(text):
        return _Store(None, os.path.realpath(_local_path(text)).rstrip("/") or "/", "")
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(text)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        return _Store(None, os.path.realpath(root), "")
    return _Store(fs, root.rstrip("/"), protocol)


# --- manifest and lock ----------------------------------------------------------------


@dataclass
class _Manifest:
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parts(self) -> set[str]:
        return {rel for c in self.contents.values() for rel in c["parts"]}


def _manifest_rel(table: str) -> str:
    return f"_manifest/{table}.json"


def _read_manifest(store: _Store, table: str) -> _Manifest:
    data = store.read(_manifest_rel(table))
    if data is None:
        return _Manifest()
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ToolkitError(
            f"{store.url(_manifest_rel(table))}: the manifest is not valid JSON ({exc}). "
            "It is only ever replaced whole, so it was edited or damaged outside the "
            "toolkit: restore it, or ingest the exports into a new store."
        ) from None
    if not isinstance(doc, dict) or doc.get("version") != _MANIFEST_VERSION:
        version = doc.get("version") if isinstance(doc, dict) else None
        raise ToolkitError(
            f"{store.url(_manifest_rel(table))}: manifest version {version!r}; "
            f"this toolkit reads version {_MANIFEST_VERSION} (sources keyed by content "
            "hash). Ingest the exports into a new store."
        )
    return _Manifest(doc["sources"], doc["contents"])


def _write_manifest(store: _Store, table: str, manifest: _Manifest) -> None:
    doc = {
        "version": _MANIFEST_VERSION,
        "table": table,
        "sources": dict(sorted(manifest.sources.items())),
        "contents": dict(sorted(manifest.contents.items())),
    }
    data = json.dumps(doc, indent=1).encode()
    store.write(_manifest_rel(table), lambda f: f.write(data))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _acquire_lock(store: _Store, table: str) -> str:
    """Take the table's ingest lock; returns the token that releases it.

    A lock left by a process of this host that no longer runs is stale: it is broken
    with a :class:`StaleLockWarning`. Any other holder is an error naming it.
    """
    rel = f"_manifest/{table}.lock"
    token = uuid.uuid4().hex
    mine = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "token": token,
    }
    for _ in range(3):
        try:
            store.create(rel, json.dumps(mine).encode())
            return token
        except FileExistsError:
            data = store.read(rel)
            if data is None:  # released meanwhile
                continue
            try:
                holder = json.loads(data)
            except ValueError:
                holder = {}
            where = store.url(rel)
            if holder.get("host") == mine["host"] and not _pid_alive(int(holder.get("pid", -1))):
                if not _break_stale(store, rel, holder, data):
                    continue  # another ingest broke it first: look at the lock again
                warnings.warn(
                    f"{where}: breaking the lock of an ingest that no longer runs (process "
                    f"{holder.get('pid')} on this host, started {holder.get('started')}); "
                    "its unrecorded parts are deleted as orphans.",
                    StaleLockWarning,
                    stacklevel=3,
                )
                continue
            raise StoreLockedError(
                f"{where}: another ingest into this store's {table} table is running "
                f"(process {holder.get('pid')} on host {holder.get('host')!r}, started "
                f"{holder.get('started')}). Wait for it to finish; if it died on another "
                "host, delete this lock file and run again."
            ) from None
    raise StoreLockedError(f"{store.url(rel)}: could not take the ingest lock.")


def _break_stale(store: _Store, rel: str, holder: dict[str, Any], seen: bytes) -> bool:
    """Remove a stale lock, atomically among the ingests that all found it stale.

    Each must first create ``<lock>.break-<its token>`` exclusively: one does, and only it
    removes the lock, after checking that the lock is still the stale one it read (not a
    lock another ingest took meanwhile). The others return False and look again.
    """
    marker = f"{rel}.break-{holder.get('token', 'none')}"
    try:
        store.create(marker, b"")
    except FileExistsError:
        return False
    try:
        if store.read(rel) != seen:  # released, or broken and taken by another meanwhile
            return False
        store.remove(rel)
        return True
    finally:
        store.remove(marker)


def _release_lock(store: _Store, table: str, token: str) -> None:
    rel = f"_manifest/{table}.lock"
    data = store.read(rel)
    if data is not None and json.loads(data).get("token") == token:
        store.remove(rel)


# --- sources --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    key: str  # absolute local path, or the full URL
    size: int
    stamp: str  # changes when the file is rewritten (mtime, or the listing's ETag/time)


def _remote_sources(url: str, function: str) -> list[_Source]:
    from fsspec.core import url_to_fs
    from fsspec.utils import tokenize

    fs, path = url_to_fs(url)
    if any(ch in path for ch in _GLOB_CHARS) and not fs.exists(path):
        infos = {p: i for p, i in fs.glob(path, detail=True).items() if i["type"] == "file"}
        if not infos:
            raise ParameterError(
                f"The 'source' parameter of {function}: the pattern {url!r} matched no file."
            )
    elif fs.isdir(path):
        base = path.rstrip("/")
        infos = {
            p: i
            for p, i in fs.find(base, detail=True).items()
            if not any(part.startswith(".") for part in posixpath.relpath(p, base).split("/"))
        }
        if not infos:
            raise ParameterError(
                f"The 'source' parameter of {function}: the prefix {url!r} holds no file."
            )
    elif fs.isfile(path):
        infos = {path: fs.info(path)}
    else:
        raise ParameterError(
            f"The 'source' parameter of {function} must name existing files, directories, "
            f"prefixes or glob patterns. Got {url!r}, which does not exist."
        )
    out = []
    for p in sorted(infos):
        info = infos[p]
        stamp = tokenize(sorted((k, str(v)) for k, v in info.items() if k != "name"))
        out.append(_Source(fs.unstrip_protocol(p), int(info["size"]), stamp))
    return out


def _sources(source: PathLike | Sequence[PathLike], function: str) -> list[_Source]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise ParameterError(
            f"The 'source' parameter of {function} must name at least one file. "
            "Got an empty list instead."
        )
    out: list[_Source] = []
    for item in items:
        text = os.fspath(item)
        if _is_url(text):
            out.extend(_remote_sources(text, function))
            continue
        for p in expand_paths(_local_path(text), function=function):
            st = p.stat()
            out.append(_Source(str(p.resolve()), st.st_size, str(st.st_mtime_ns)))
    return list({s.key: s for s in out}.values())  # a file named twice is one source


# --- ingestion (on the workers) -------------------------------------------------------


def _partition_dir(day: str | None, service: str | None) -> str:
    d = _NULL if day is None else day
    s = _NULL if service is None else urllib.parse.quote(service, safe="")
    return f"date={d}/service={s}"


def _load(table: str, path: str, on_error: OnError, report: LoadReport) -> pl.DataFrame:
    from toolkit import loaders

    loader: Callable[..., Any] = {
        "spans": loaders.load_spans,
        "logs": loaders.load_logs,
        "metrics": loaders.load_metrics,
    }[table]
    frame: pl.DataFrame = loader(path, on_error=on_error, report=report, progress=False)
    return frame


def _fetch(key: str) -> tuple[str, str, str | None]:
    """(local path, SHA-256 hex, scratch dir to delete) of a source."""
    if not _is_url(key):
        with open(key, "rb") as f:
            return key, hashlib.file_digest(f, "sha256").hexdigest(), None
    import fsspec

    scratch = tempfile.mkdtemp(prefix="toolkit-ingest-")
    name = posixpath.basename(urllib.parse.urlsplit(key).path) or "export"
    local = os.path.join(scratch, name)
    digest = hashlib.sha256()
    try:
        with fsspec.open(key, "rb") as src, open(local, "wb") as dst:
            while chunk := src.read(8 << 20):
                digest.update(chunk)
                dst.write(chunk)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return local, digest.hexdigest(), scratch


def _renamed(exc: Exception, local: str, key: str) -> Exception:
    """``exc`` with the scratch copy's path replaced by the source's URL."""
    if local == key:
        return exc
    if isinstance(exc, FormatError):
        return type(exc)(
            exc.problem.replace(local, key),
            path=key if exc.path == local else exc.path,
            line=exc.line,
            record=exc.record,
            column=exc.column,
        )
    exc.args = tuple(a.replace(local, key) if isinstance(a, str) else a for a in exc.args)
    return exc


def _parquet_writer(frame: pl.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(f: IO[bytes]) -> None:
        frame.write_parquet(f, compression="zstd", statistics=True)

    return write


def _ingest_file(
    key: str, store: _Store, table: str, known: frozenset[str] | set[str], on_error: OnError
) -> dict[str, Any]:
    """Read one source and write its partitioned parts (runs on a worker).

    Content already in the store (``known`` hashes) is not parsed again. The loader's
    warnings are returned (category, message) for the driver to re-emit: on a worker they
    would only reach its log. Loads in threads of one process are serialized by a lock for
    this; process workers with one thread each (the CLI's LocalCluster) are the intended
    set-up.
    """
    local, sha, scratch = _fetch(key)
    try:
        if sha in known:
            return {"sha256": sha, "duplicate": True, "warnings": []}
        report = LoadReport()
        # catch_warnings swaps process-wide state: threads of one worker take turns so
        # each file's warnings are its own (process workers with one thread never wait).
        with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = _load(table, local, on_error, report)
                if frame.height == 0 and report.skipped:  # nothing readable: not done
                    raise ToolkitError(
                        f"no record could be read ({len(report.skipped)} skipped); the "
                        f"first: {report.skipped[0]}"
                    )
            except Exception as exc:
                raise _renamed(exc, local, key) from None
        said = [(w.category, str(w.message).replace(local, key)) for w in caught]
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    day = pl.col(TIME[table]).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d")
    if "service_name" not in frame.columns:
        frame = frame.with_columns(service_name=pl.lit(None, dtype=pl.String))
    keyed = frame.with_columns(day.alias("__day"))
    parts: list[str] = []
    for (d, s), group in keyed.group_by(["__day", "service_name"], maintain_order=True):
        rel = f"{_partition_dir(d, s)}/part-{sha[:_ID_CHARS]}.parquet"
        store.write(f"{table}/{rel}", _parquet_writer(group.drop("__day")))
        parts.append(rel)
    return {
        "sha256": sha,
        "duplicate": False,
        "parts": sorted(parts),
        "rows": frame.height,
        "skipped_records": len(report.skipped),
        "warnings": said,
    }


# --- ingestion (the driver) -----------------------------------------------------------


def _remove_orphans(store: _Store, table: str, keep: set[str]) -> int:
    """Delete parts (and temp files) no manifest entry owns: leftovers of a crash."""
    n = 0
    for rel in store.listing(table):
        name = posixpath.basename(rel)
        if rel not in keep and (name.endswith(".tmp") or name.endswith(".parquet")):
            store.remove(f"{table}/{rel}")
            n += 1
    return n


def _forget(store: _Store, table: str, manifest: _Manifest, key: str) -> None:
    """Drop a source; its content's parts go too when no other source holds it."""
    sha = manifest.sources.pop(key)["sha256"]
    if all(s["sha256"] != sha for s in manifest.sources.values()):
        for rel in manifest.contents.pop(sha, {"parts": []})["parts"]:
            store.remove(f"{table}/{rel}")


@dataclass
class IngestResult:
    """What one :func:`ingest` run did.

    Attributes
    ----------
    ingested : list of str
        Sources read and written in this run (absolute paths or URLs).
    skipped : list of str
        Sources already in the manifest, unchanged, not read again.
    duplicates : list of str
        Sources whose content (same SHA-256) was already in the store under another
        path, e.g. a moved or copied export: recorded, not parsed nor written again.
    failed : dict of str to str
        Sources that could not be read, with the error, under ``on_error="skip"``; they
        are not in the manifest, so the next run tries them again.
    rows : int
        Rows written in this run.
    parts : int
        Parquet parts written in this run.
    skipped_records : int
        Bad records left out of the ingested sources under ``on_error="skip"``.
    orphans_removed : int
        Parts left by an interrupted run and deleted before ingesting.
    seconds : float
        Wall time of the run.
    """

    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    parts: int = 0
    skipped_records: int = 0
    orphans_removed: int = 0
    seconds: float = 0.0


def ingest(
    source: PathLike | Sequence[PathLike],
    store: PathLike,
    *,
    client: Any = None,
    table: TableName = "spans",
    on_error: OnError = "raise",
    progress: bool | None = None,
) -> IngestResult:
    """Ingest export files into a partitioned Parquet store, idempotently.

    Parameters
    ----------
    source : str, path-like, or a sequence of them
        Files, directories (read recursively) or glob patterns, as for
        :func:`toolkit.load_spans`, or fsspec URLs of files, prefixes or globs
        (``s3://bucket/exports/``, ``gs://bucket/2026-11-*/*.jsonl.gz``). Hidden files
        (``.name``) inside directories and prefixes, and the store's own files when it
        lies inside a source directory, are left out.
    store : str or path-like
        The store's root: a directory (created if absent) or an fsspec URL.
    client : dask.distributed.Client, optional
        Read and write the files on this cluster's workers (one task per file). Without a
        client the files are read one after another in this process. With a cluster of
        several machines the store (and local sources) must be reachable from every
        worker: a shared filesystem or an object store URL.
    table : {"spans", "logs", "metrics"}, default "spans"
        Which canonical table the files hold; read with the matching ``load_*``.
    on_error : {"raise", "skip"}, default "raise"
        ``"raise"``: the first source that fails to load is raised, after every other
        source of the run has been written and recorded (a re-run then retries only the
        failed ones). ``"skip"``: the loaders skip bad records (counted in
        ``skipped_records`` and warned about per file), and sources that cannot be read
        at all are listed in ``failed`` with a warning instead of raising.
    progress : bool, optional
        A bar over the bytes of the files to ingest, advanced as each file is recorded:
        None shows it when the run takes over two seconds (unless ``TOOLKIT_PROGRESS=0``).

    Returns
    -------
    IngestResult

    Raises
    ------
    ToolkitError
        Under ``on_error="raise"``, the first source that failed to load.
    StoreLockedError
        If another ingest into the same store and table is running.

    Warns
    -----
    ToolkitWarning
        The loaders' warnings about each file (type promotions, repeated span ids,
        skipped records ...), caught on the workers and re-emitted here once the run is
        over; a :class:`StaleLockWarning` when a dead ingest's lock is broken.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> span = ('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",'
    ...     '"value":{"stringValue":"api"}}]},"scopeSpans":[{"spans":[{"traceId":'
    ...     '"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x",'
    ...     '"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":'
    ...     '"1544712661000000000"}]}]}]}')
    >>> _ = (d / "a.jsonl").write_text(span + "\\n")
    >>> r = ingest(d / "a.jsonl", d / "store")
    >>> r.rows, r.parts, len(ingest(d / "a.jsonl", d / "store").skipped)
    (1, 1, 1)
    >>> _ = shutil.copy(d / "a.jsonl", d / "moved.jsonl")
    >>> ingest(d / "moved.jsonl", d / "store").duplicates == [str(d / "moved.jsonl")]
    True
    >>> scan(d / "store").select("service_name", "duration_ms").collect().rows()
    [('api', 1000.0)]
    """
    function = "ingest"
    check_table(table, function)
    if on_error not in ("raise", "skip"):
        raise ParameterError(
            f"The 'on_error' parameter of {function} must be 'raise' or 'skip'. "
            f"Got {on_error!r} instead."
        )
    t0 = time.perf_counter()
    st = _open_store(store)
    inside = f"{st.url('')}"  # the store's own files are never sources
    sources = [s for s in _sources(source, function) if not s.key.startswith(inside)]
    result = IngestResult()
    said: list[tuple[type[Warning], str]] = []
    first_error: BaseException | None = None
    token = _acquire_lock(st, table)
    bar = Progress("ingest", enabled=progress)
    try:
        manifest = _read_manifest(st, table)
        todo: list[_Source] = []
        changed = False
        for src in sources:
            entry = manifest.sources.get(src.key)
            if entry is not None and (entry["size"], entry["stamp"]) == (src.size, src.stamp):
                result.skipped.append(src.key)
                continue
            if entry is not None:  # rewritten since ingested: its old content goes first
                _forget(st, table, manifest, src.key)
                changed = True
            todo.append(src)
        if changed:
            _write_manifest(st, table, manifest)
        result.orphans_removed = _remove_orphans(st, table, manifest.parts())
        known = frozenset(manifest.contents)
        bar.describe(f"ingest {len(todo)} file(s)")
        bar.update_to(0, total=sum(s.size for s in todo))

        def record(src: _Source, out: dict[str, Any]) -> None:
            said.extend(out.pop("warnings"))
            sha = out.pop("sha256")
            manifest.sources[src.key] = {"size": src.size, "stamp": src.stamp, "sha256": sha}
            if out.pop("duplicate") or sha in manifest.contents:
                result.duplicates.append(src.key)
            else:
                manifest.contents[sha] = out
                result.ingested.append(src.key)
                result.rows += int(out["rows"])
                result.parts += len(out["parts"])
                result.skipped_records += int(out["skipped_records"])
            _write_manifest(st, table, manifest)
            bar.update(src.size)

        def failed(src: _Source, exc: Exception) -> None:
            nonlocal first_error
            if on_error == "raise":
                first_error = first_error or exc
            else:
                result.failed[src.key] = str(exc)
            bar.update(src.size)

        if client is None:
            for src in todo:
                try:
                    out = _ingest_file(src.key, st, table, known, on_error)
                except Exception as exc:
                    failed(src, exc)
                    continue
                record(src, out)
        elif todo:
            from distributed import as_completed

            [known_on_cluster] = client.scatter([known], broadcast=True)
            futures = client.map(
                _ingest_file,
                [s.key for s in todo],
                store=st,
                table=table,
                known=known_on_cluster,
                on_error=on_error,
                pure=False,
            )
            meta = {f.key: todo[i] for i, f in enumerate(futures)}
            for future in as_completed(futures):
                src = meta[future.key]
                try:
                    out = future.result()
                except Exception as exc:
                    failed(src, exc)
                    continue
                record(src, out)
    finally:
        bar.close()
        _release_lock(st, table, token)
    for key in (result.ingested, result.duplicates):
        key.sort()
    result.seconds = time.perf_counter() - t0
    for category, message in said:
        warnings.warn(message, category, stacklevel=2)
    if result.failed:
        listed = "; ".join(f"{k}: {v}" for k, v in sorted(result.failed.items()))
        warnings.warn(
            f"{function}: skipped {len(result.failed)} source(s) that could not be read "
            f"(on_error='skip'); they are not in the manifest and the next run retries "
            f"them. {listed}",
            SkippedRecordsWarning,
            stacklevel=2,
        )
    if first_error is not None:
        raise first_error
    return result


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    store: _Store
    table: str
    files: list[tuple[str, dict[str, pl.DataType]]]
    dtypes: dict[str, pl.DataType]
    columns: list[str]
    predicate: pl.Expr | None


def _select(store: PathLike, table: object, filters: object, function: str) -> _Selection:
    t = check_table(table, function)
    name = t.name
    checked = check_filters(filters, function)
    services: list[str] | None = checked.get("service_name")
    start: dt.datetime | None = checked.get("start")
    end: dt.datetime | None = checked.get("end")
    wanted = None if services is None else {urllib.parse.quote(s, safe="") for s in services}

    st = _open_store(store)
    rels = sorted(_read_manifest(st, name).parts())
    chosen: list[str] = []
    for rel in rels:  # partition pruning on the directory names
        date_dir, service_dir, _ = rel.split("/")
        day, svc = date_dir[5:], service_dir[8:]
        if wanted is not None and svc not in wanted:
            continue
        if day != _NULL and (start is not None or end is not None):
            d0 = dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            if start is not None and d0 + dt.timedelta(days=1) <= start:
                continue
            if end is not None and d0 >= end:
                continue
        chosen.append(rel)
    files = [(f"{name}/{rel}", _part_schema(st, f"{name}/{rel}")) for rel in chosen]
    dtypes, promoted = unify_dtypes([s for _, s in files])
    if promoted:
        names = ", ".join(f"{k!r} -> {v}" for k, v in sorted(promoted.items()))
        warnings.warn(
            f"{function}: attribute values disagreed in type between parts and were promoted "
            f"(int and double to Float64, any other mix to String): {names}",
            TypePromotionWarning,
            stacklevel=3,
        )
    dtypes = {k: (pl.String() if v == pl.Null else v) for k, v in dtypes.items()}
    for c in t.columns:  # an empty selection still has the canonical columns
        dtypes.setdefault(c.name, c.dtype)
    columns = order_columns(dtypes, t)
    preds: list[pl.Expr] = []
    tcol = pl.col(TIME[name])
    if services is not None:
        preds.append(pl.col("service_name").is_in(list(services)))
    if start is not None:
        preds.append(tcol >= start)
    if end is not None:
        preds.append(tcol < end)
    predicate = pl.all_horizontal(preds) if preds else None
    return _Selection(st, name, files, dtypes, columns, predicate)


def _part_schema(store: _Store, rel: str) -> dict[str, pl.DataType]:
    source = store.source(rel)
    try:
        return dict(pl.read_parquet_schema(source))
    finally:
        if hasattr(source, "close"):
            source.close()


def _part_lazy(sel: _Selection, part: tuple[str, dict[str, pl.DataType]]) -> pl.LazyFrame:
    from toolkit.loaders import _cast_expr

    rel, schema = part
    dtypes = sel.dtypes
    casts = [_cast_expr(n, d, dtypes[n]) for n, d in schema.items() if dtypes[n] != d]
    missing = [pl.lit(None, dtype=dtypes[c]).alias(c) for c in sel.columns if c not in schema]
    source = sel.store.source(rel)
    if isinstance(source, str):
        lf = pl.scan_parquet(source, hive_partitioning=False, glob=False)
    else:
        lf = pl.scan_parquet(source, hive_partitioning=False)
    return lf.with_columns(*casts, *missing).select(sel.columns)


def _lazy(sel: _Selection) -> pl.LazyFrame:
    if not sel.files:
        lf = pl.DataFrame(schema=sel.dtypes).lazy().select(sel.columns)
    else:
        lf = pl.concat([_part_lazy(sel, part) for part in sel.files], how="vertical")
    return lf if sel.predicate is None else lf.filter(sel.predicate)


def scan(
    store: PathLike, table: TableName = "spans", filters: Mapping[str, Any] | None = None
) -> pl.LazyFrame:
    """A store's table as a polars LazyFrame, reading only the partitions asked for.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    table : {"spans", "logs", "metrics"}, default "spans"
    filters : mapping, optional
        ``service_name`` (a string or list of strings), ``start`` and ``end``
        (time-zone-aware datetimes; ``start`` inclusive, ``end`` exclusive, on
        ``start_time`` for spans and ``time`` otherwise). Partitions outside them are not
        opened; the rows are filtered exactly. Further ``filter``/``select`` on the result
        are pushed down into the Parquet reads by polars.

    Returns
    -------
    polars.LazyFrame
        The canonical table; attribute columns of all selected parts, their dtypes unified
        as :func:`toolkit.load_spans` does (missing columns are null).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> lf = scan(pathlib.Path(tempfile.mkdtemp()))
    >>> lf.collect().height, lf.collect_schema()["start_time"]
    (0, Datetime(time_unit='ns', time_zone='UTC'))
    """
    return _lazy(_select(store, table, filters, "scan"))


def _part_pandas(
    part: tuple[str, dict[str, pl.DataType]], sel: _Selection, columns: list[str]
) -> Any:
    from toolkit.schema import to_pandas

    lf = _part_lazy(sel, part)
    if sel.predicate is not None:
        lf = lf.filter(sel.predicate)
    return to_pandas(lf.select(columns).collect())


def to_dask(
    store: PathLike,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> Any:
    """A store's table as a ``dask.dataframe.DataFrame``, one partition per Parquet part.

    For pandas-style code on a cluster; each partition is read (with the same pruning,
    filters and dtype unification as :func:`scan`) by the worker that computes it.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    table, filters
        As for :func:`scan`.
    columns : sequence of str, optional
        Read only these columns.

    Returns
    -------
    dask.dataframe.DataFrame
        Partitions are pandas frames as :func:`toolkit.schema.to_pandas` makes them.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> ddf = to_dask(pathlib.Path(tempfile.mkdtemp()), columns=["span_id"])
    >>> list(ddf.columns), len(ddf.compute())
    (['span_id'], 0)
    """
    import dask.dataframe as dd

    from toolkit.schema import to_pandas

    function = "to_dask"
    sel = _select(store, table, filters, function)
    cols = list(sel.columns) if columns is None else list(columns)
    unknown = [c for c in cols if c not in sel.dtypes]
    if unknown:
        raise ParameterError(
            f"The 'columns' parameter of {function} must name columns of the store's "
            f"{sel.table} table. Got {unknown!r}, which it lacks."
        )
    meta = to_pandas(pl.DataFrame(schema={c: sel.dtypes[c] for c in cols}))
    if not sel.files:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(
        _part_pandas, sel.files, sel=sel, columns=cols, meta=meta, enforce_metadata=False
    )


# --- mergeable aggregations -----------------------------------------------------------


class DDSketch:
    """A mergeable quantile sketch with relative error ``alpha`` (DDSketch).

    Values ``x > 0`` go to bucket ``ceil(log_gamma(x))`` with
    ``gamma = (1 + alpha) / (1 - alpha)``; zeros are counted apart. The quantile ``q`` is
    the bucket holding the value of rank ``floor(q * (n - 1))`` (numpy's
    ``method="lower"``), returned as ``2 * gamma**k / (gamma + 1)``: within ``alpha``
    relative error of that value. Merging adds bucket counts, so sketches built on parts
    merge into the sketch of the whole. Memory grows with the log of the value range,
    not with the count (about ``ln(max/min) / ln(gamma)`` buckets).

    Parameters
    ----------
    alpha : float, default 0.01
        Relative accuracy, in (0, 1).

    Examples
    --------
    >>> s = DDSketch(0.01)
    >>> s.add([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(s.quantile(0.5), 2), s.count
    (2.97, 5)
    """

    def __init__(self, alpha: float = 0.01) -> None:
        if not isinstance(alpha, float | int) or not 0 < alpha < 1:
            raise ParameterError(
                f"The 'alpha' parameter of DDSketch must be a number in (0, 1). "
                f"Got {alpha!r} instead."
            )
        self.alpha = float(alpha)
        self.gamma = (1 + self.alpha) / (1 - self.alpha)
        self._lg = math.log(self.gamma)
        self.bins: dict[int, int] = {}
        self.zeros = 0

    @property
    def count(self) -> int:
        """Number of values added."""
        return self.zeros + sum(self.bins.values())

    def add(self, values: Any) -> None:
        """Add values (array-like of non-negative numbers; nulls and NaN are an error)."""
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            return
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            bad = x[~np.isfinite(x) | (x < 0)][0]
            raise ParameterError(
                "The values added to DDSketch must be finite and non-negative. "
                f"Got {float(bad)!r} instead."
            )
        pos = x[x > 0]
        self.zeros += int(x.size - pos.size)
        keys, counts = np.unique(
            np.ceil(np.log(pos) / self._lg).astype(np.int64), return_counts=True
        )
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            self.bins[k] = self.bins.get(k, 0) + c

    def merge(self, other: DDSketch) -> DDSketch:
        """Add ``other``'s counts into this sketch (same ``alpha``); returns self."""
        if other.alpha != self.alpha:
            raise ParameterError(
                f"The 'other' parameter of DDSketch.merge must have alpha {self.alpha}. "
                f"Got alpha {other.alpha} instead."
            )
        for k, c in other.bins.items():
            self.bins[k] = self.bins.get(k, 0) + c
        self.zeros += other.zeros
        return self

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1), within ``alpha`` relative error; NaN if empty."""
        if not isinstance(q, float | int) or not 0 <= q <= 1:
            raise ParameterError(
                f"The 'q' parameter of DDSketch.quantile must be in [0, 1]. Got {q!r} instead."
            )
        n = self.count
        if n == 0:
            return math.nan
        rank = math.floor(q * (n - 1))
        if rank < self.zeros:
            return 0.0
        seen = self.zeros
        for k in sorted(self.bins):
            seen += self.bins[k]
            if seen > rank:
                return 2 * self.gamma**k / (self.gamma + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DDSketch)
            and other.alpha == self.alpha
            and other.zeros == self.zeros
            and other.bins == self.bins
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DDSketch(alpha={self.alpha}, count={self.count}, buckets={len(self.bins)})"


def _counts_partial(lf: pl.LazyFrame, time_col: str, good: pl.Expr, by: list[str]) -> pl.DataFrame:
    return (
        lf.group_by([pl.col(time_col).dt.truncate("1m").alias("minute"), *by])
        .agg(
            good=good.fill_null(False).cast(pl.Int64).sum(),
            unknown=good.is_null().cast(pl.Int64).sum(),
            total=pl.len().cast(pl.Int64),
        )
        .collect()
    )


def _part_task(
    part: tuple[str, dict[str, pl.DataType]],
    sel: _Selection,
    fn: Callable[..., Any],
    kwargs: dict[str, Any],
) -> Any:
    """Apply a partial aggregation to one part (runs on a worker)."""
    lf = _part_lazy(sel, part)
    if sel.predicate is not None:
        lf = lf.filter(sel.predicate)
    return fn(lf, **kwargs)


def _partials(sel: _Selection, client: Any, fn: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """``fn`` over the whole selection locally, or over each part on the cluster."""
    if client is None or not sel.files:
        return [fn(_lazy(sel), **kwargs)]
    futures = client.map(_part_task, sel.files, sel=sel, fn=fn, kwargs=kwargs, pure=False)
    out: list[Any] = client.gather(futures)
    return out


def _check_by(by: object, function: str) -> list[str]:
    if isinstance(by, str):
        return [by]
    if isinstance(by, Sequence) and all(isinstance(b, str) for b in by):
        return list(by)
    raise ParameterError(
        f"The 'by' parameter of {function} must be a column name or a list of them. "
        f"Got {by!r} instead."
    )


def minute_counts(
    store: PathLike,
    good: pl.Expr,
    *,
    table: TableName = "spans",
    by: str | Sequence[str] = ("service_name",),
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Good and total event counts per minute, the input of SLIs and burn rates.

    Computed per Parquet part (on the cluster's workers when ``client`` is given) and
    summed: the answer is the same with or without a cluster.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    good : polars.Expr
        Boolean expression marking a good event, e.g. ``pl.col("status_code") != "error"``.
        Where it is null (the SLI does not apply, e.g. no first token recorded) the event
        is not good, and counted in ``unknown`` too.
    table : {"spans", "logs", "metrics"}, default "spans"
    by : str or list of str, default ("service_name",)
        Grouping columns besides the minute.
    filters : mapping, optional
        As for :func:`scan`.
    client : dask.distributed.Client, optional

    Returns
    -------
    polars.DataFrame
        ``minute`` (the minute's start, UTC), the ``by`` columns, ``good``, ``unknown``
        (``good`` was null) and ``total`` (Int64), sorted. :mod:`toolkit.slo` leaves
        unknown events out: pass ``total - unknown`` as its total.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> minute_counts(pathlib.Path(tempfile.mkdtemp()), pl.lit(True)).columns
    ['minute', 'service_name', 'good', 'unknown', 'total']
    """
    function = "minute_counts"
    keys = _check_by(by, function)
    if not isinstance(good, pl.Expr):
        raise ParameterError(
            f"The 'good' parameter of {function} must be a polars expression. "
            f"Got {type(good).__name__} instead."
        )
    sel = _select(store, table, filters, function)
    parts: list[pl.DataFrame] = _partials(
        sel, client, _counts_partial, time_col=TIME[sel.table], good=good, by=keys
    )
    return (
        pl.concat(parts, how="vertical")
        .group_by(["minute", *keys])
        .agg(pl.col("good").sum(), pl.col("unknown").sum(), pl.col("total").sum())
        .sort(["minute", *keys], nulls_last=True)
    )


def _window_keys(by: list[str], every: str | None, time_col: str) -> list[pl.Expr]:
    window = [] if every is None else [pl.col(time_col).dt.truncate(every).alias("window_start")]
    return [*window, *(pl.col(b) for b in by)]


def _check_every(every: object, function: str) -> str | None:
    if every is None:
        return None
    try:
        ok = isinstance(every, str) and bool(every)
        if ok:
            pl.select(pl.lit(dt.datetime(2026, 1, 1)).dt.truncate(every))  # type: ignore[arg-type]
    except (pl.exceptions.PolarsError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(
            f"The 'every' parameter of {function} must be a duration such as '1h' or '1d'. "
            f"Got {every!r} instead."
        )
    return str(every)


def _group_partial(
    lf: pl.LazyFrame, by: list[str], every: str | None, time_col: str
) -> pl.DataFrame:
    return (
        lf.group_by(_window_keys(by, every, time_col)).agg(count=pl.len().cast(pl.Int64)).collect()
    )


def group_counts(
    store: PathLike,
    by: str | Sequence[str],
    *,
    every: str | None = None,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Rows per group (e.g. per protected attribute and outcome, for fairness), merged
    from per-part counts.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    by : str or list of str
        Grouping columns (a column absent from every part is an error of polars).
    every : str, optional
        Also count per time window of this width (``"1h"``, ``"1d"``; aligned as
        ``polars.Expr.dt.truncate``) on ``start_time`` (spans) or ``time``.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    polars.DataFrame
        ``window_start`` (with ``every``), the ``by`` columns and ``count`` (Int64),
        sorted (nulls last).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> group_counts(pathlib.Path(tempfile.mkdtemp()), "status_code").columns
    ['status_code', 'count']
    """
    keys = _check_by(by, "group_counts")
    window = _check_every(every, "group_counts")
    sel = _select(store, table, filters, "group_counts")
    parts: list[pl.DataFrame] = _partials(
        sel, client, _group_partial, by=keys, every=window, time_col=TIME[sel.table]
    )
    keys = (["window_start"] if window else []) + keys
    return (
        pl.concat(parts, how="vertical")
        .group_by(keys)
        .agg(pl.col("count").sum())
        .sort(keys, nulls_last=True)
    )


def _histogram_partial(
    lf: pl.LazyFrame,
    column: str,
    edges: list[float],
    by: list[str],
    every: str | None,
    time_col: str,
) -> pl.DataFrame:
    x = pl.col(column).cast(pl.Float64)
    index = pl.sum_horizontal([(x >= e).cast(pl.Int32) for e in edges])
    binned = pl.when(x.is_null() | x.is_nan()).then(None).otherwise(index).alias("bin")
    keys = _window_keys(by, every, time_col)
    return lf.group_by([*keys, binned]).agg(count=pl.len().cast(pl.Int64)).collect()


def histogram(
    store: PathLike,
    column: str,
    edges: Sequence[float],
    *,
    by: str | Sequence[str] = (),
    every: str | None = None,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Counts of ``column`` in fixed bins (drift histograms), merged from per-part counts.

    No value is dropped: bin ``i`` holds ``edges[i-1] <= x < edges[i]``, with
    ``bin_lower = -inf`` below the first edge and ``bin_upper = +inf`` at or above the
    last; null and NaN values are counted in a row whose bin bounds are null.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    column : str
        A numeric column.
    edges : sequence of float
        Strictly increasing bin edges (at least one).
    by : str or list of str, default ()
        Grouping columns, e.g. ``"service_name"``.
    every : str, optional
        Also count per time window, as for :func:`group_counts`.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    polars.DataFrame
        ``window_start`` (with ``every``), the ``by`` columns, ``bin_lower``,
        ``bin_upper`` (Float64) and ``count`` (Int64), sorted; only non-empty bins appear.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> histogram(pathlib.Path(tempfile.mkdtemp()), "duration_ms", [1.0, 10.0]).columns
    ['bin_lower', 'bin_upper', 'count']
    """
    function = "histogram"
    keys = _check_by(by, function)
    e = _check_edges(edges, function)
    window = _check_every(every, function)
    sel = _select(store, table, filters, function)
    parts: list[pl.DataFrame] = _partials(
        sel,
        client,
        _histogram_partial,
        column=column,
        edges=e,
        by=keys,
        every=window,
        time_col=TIME[sel.table],
    )
    keys = (["window_start"] if window else []) + keys
    bins = pl.DataFrame(
        {
            "bin": pl.Series(range(len(e) + 1), dtype=pl.Int32),
            "bin_lower": pl.Series([-math.inf, *e], dtype=pl.Float64),
            "bin_upper": pl.Series([*e, math.inf], dtype=pl.Float64),
        }
    )
    return (
        pl.concat(parts, how="vertical")
        .group_by([*keys, "bin"])
        .agg(pl.col("count").sum())
        .join(bins, on="bin", how="left")
        .sort([*keys, "bin"], nulls_last=True)
        .select(*keys, "bin_lower", "bin_upper", "count")
    )


def _sketch_partial(
    lf: pl.LazyFrame, column: str, by: list[str], alpha: float
) -> dict[tuple[Any, ...], DDSketch]:
    frame = lf.select(*by, column).drop_nulls(column).collect()
    out: dict[tuple[Any, ...], DDSketch] = {}
    if not by:
        s = DDSketch(alpha)
        s.add(frame[column].to_numpy())
        return {(): s} if s.count else {}
    for key, group in frame.group_by(by, maintain_order=True):
        s = DDSketch(alpha)
        s.add(group[column].to_numpy())
        out[tuple(key)] = s
    return out


def latency_sketches(
    store: PathLike,
    *,
    column: str = "duration_ms",
    by: str | Sequence[str] = ("service_name",),
    alpha: float = 0.01,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> dict[tuple[Any, ...], DDSketch]:
    """One :class:`DDSketch` of ``column`` per group, merged from per-part sketches.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    column : str, default "duration_ms"
        Non-negative values to sketch; nulls are left out.
    by : str or list of str, default ("service_name",)
        Grouping columns (``[]`` for one sketch of everything).
    alpha : float, default 0.01
        The sketches' relative accuracy.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    dict
        Group key tuple to its sketch.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> latency_sketches(pathlib.Path(tempfile.mkdtemp()))
    {}
    """
    function = "latency_sketches"
    keys = _check_by(by, function)
    DDSketch(alpha)  # validates alpha
    sel = _select(store, table, filters, function)
    partials = _partials(sel, client, _sketch_partial, column=column, by=keys, alpha=alpha)
    merged: dict[tuple[Any, ...], DDSketch] = {}
    for partial in partials:
        for key, sketch in partial.items():
            if key in merged:
                merged[key].merge(sketch)
            else:
                merged[key] = sketch
    return merged


def latency_percentiles(
    store: PathLike,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    **options: Any,
) -> pl.DataFrame:
    """Percentiles of latency per group from merged sketches (see :func:`latency_sketches`).

    Parameters
    ----------
    store : str or path-like
    quantiles : sequence of float, default (0.5, 0.9, 0.99)
    **options
        Passed to :func:`latency_sketches` (``column``, ``by``, ``alpha``, ``table``,
        ``filters``, ``client``).

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``count``, and one Float64 column per quantile named
        ``p50``, ``p90``, ``p99``, ``p99.9`` ...; each within ``alpha`` relative error of
        the exact lower quantile.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> latency_percentiles(pathlib.Path(tempfile.mkdtemp())).columns
    ['service_name', 'count', 'p50', 'p90', 'p99']
    """
    keys = _check_by(options.get("by", ("service_name",)), "latency_percentiles")
    sketches = latency_sketches(store, **options)
    names = [f"p{100 * q:g}" for q in quantiles]
    rows = [(*key, s.count, *[s.quantile(q) for q in quantiles]) for key, s in sketches.items()]
    schema: dict[str, Any] = dict.fromkeys(keys)
    if rows:
        frame = pl.DataFrame(rows, schema=[*keys, "count", *names], orient="row")
    else:
        frame = pl.DataFrame(
            schema={
                **dict.fromkeys(schema, pl.String),
                "count": pl.Int64,
                **dict.fromkeys(names, pl.Float64),
            }
        )
    return frame.with_columns(pl.col("count").cast(pl.Int64)).sort(keys, nulls_last=True)


# --- cluster and command line ---------------------------------------------------------


def connect(
    scheduler: str | None = None,
    *,
    workers: int = 2,
    processes: bool = True,
    dashboard_address: str = ":0",
) -> Any:
    """A ``dask.distributed`` client: attached to a scheduler, or on a new LocalCluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``, as Kubernetes, YARN or
        ``dask scheduler`` print it). None starts a ``LocalCluster`` on this machine,
        closed with the client.
    workers : int, default 2
        Workers of the LocalCluster, one thread each.
    processes : bool, default True
        Process workers (parsing runs in parallel); False for thread workers in this
        process, which start at once.
    dashboard_address : str, default ":0"
        Where the LocalCluster's dashboard listens (":0": any free port); see the
        client's ``dashboard_link``.

    Returns
    -------
    distributed.Client
        Use it as a context manager, or ``close()`` it, to stop a LocalCluster.

    Examples
    --------
    >>> with connect(workers=1, processes=False) as client:
    ...     len(client.scheduler_info()["workers"])
    1
    """
    from distributed import Client

    function = "connect"
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise ParameterError(
                f"The 'scheduler' parameter of {function} must be an address such as "
                f"'tcp://host:8786'. Got {scheduler!r} instead."
            )
        return Client(scheduler)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(
            f"The 'workers' parameter of {function} must be a positive integer. "
            f"Got {workers!r} instead."
        )
    return Client(
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=dashboard_address,
    )


def _cli_ingest(args: Any) -> int:
    client = connect(args.scheduler, workers=args.workers, processes=not args.threads)
    try:
        print(f"Dask dashboard: {client.dashboard_link}")
        result = ingest(
            args.src, args.store, client=client, table=args.table, on_error=args.on_error
        )
    finally:
        client.close()
    print(
        f"ingested {len(result.ingested)} file(s), {result.rows:,} rows in {result.parts} "
        f"part(s); {len(result.skipped)} already in the store; "
        f"{len(result.duplicates)} duplicate(s) of stored content; {result.seconds:.1f} s"
    )
    if args.on_error == "skip":
        print(
            f"skipped {result.skipped_records:,} bad record(s) and "
            f"{len(result.failed)} unreadable file(s)"
        )
    return 1 if result.failed else 0


def register_cli(subparsers: Any) -> None:
    """Add the ``ingest`` subcommand to the ``genai-sre`` parser's subparsers.

    ``genai-sre ingest SRC... --store DIR [--scheduler ADDRESS] [--on-error skip]``
    ingests on the Dask scheduler at ADDRESS, or on a ``LocalCluster`` started for the
    run; the dashboard link is printed. The exit status is 1 when files were skipped as
    unreadable.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="genai-sre")
    >>> register_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["ingest", "x", "--store", "s"])
    >>> args.src, args.store, args.scheduler, args.table, args.on_error
    (['x'], 's', None, 'spans', 'raise')
    """
    p = subparsers.add_parser(
        "ingest",
        help="ingest exports into a partitioned Parquet store on a Dask cluster",
        description=(
            "Read export files (directories, globs) on a Dask cluster and write the canonical "
            "table as Parquet partitioned by date and service under DIR; files already "
            "ingested are skipped, so re-runs only add new files."
        ),
    )
    p.add_argument(
        "src", nargs="+", help="files, directories, glob patterns or fsspec URLs (s3://...)"
    )
    p.add_argument("--store", required=True, help="the store's root: a directory or a URL")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    p.add_argument("--table", choices=sorted(TABLES), default="spans", help="table (spans)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    p.add_argument(
        "--on-error",
        choices=["raise", "skip"],
        default="raise",
        help="skip (and count) bad records and unreadable files instead of stopping",
    )
    p.add_argument(
        "--threads", action="store_true", help="LocalCluster with thread workers, not processes"
    )
    p.set_defaults(handler=_cli_ingest)


# --- what a store holds: the questions its spans can answer ------------------------------


def span_sources(data_dir: PathLike, sources: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The exports to ingest: every spans file under ``data_dir``, found by content.

    Parameters
    ----------
    data_dir : str or path-like
        The folder of exports (searched recursively, any names, any nesting).
    sources : str or sequence of str, optional
        Files, directories, globs or fsspec URLs to ingest instead; a relative path is
        taken relative to ``data_dir``, a URL or an absolute path as it is. None: every
        file under ``data_dir`` whose content is a spans export (OTLP JSON lines or
        protobuf, Jaeger, Zipkin, SDK dumps), whatever its name.

    Returns
    -------
    tuple of str
        The sources, sorted; empty when ``data_dir`` holds no spans export.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("hello")
    >>> span_sources(folder), span_sources(folder, ["s3://bucket/otlp/"])
    ((), ('s3://bucket/otlp/',))
    """
    from toolkit.ingest.detect import detect

    function = "span_sources"
    if sources is not None:
        items = [sources] if isinstance(sources, str) else list(sources)
        bad = [s for s in items if not isinstance(s, str) or not s]
        if bad or not items:
            raise ParameterError(
                f"The 'sources' parameter of {function} must be a path, URL or glob, or a "
                f"list of them. Got {sources!r} instead."
            )
        base = os.fspath(data_dir)
        return tuple(s if _is_url(s) or os.path.isabs(s) else os.path.join(base, s) for s in items)
    if isinstance(data_dir, str) and _is_url(data_dir):
        return (data_dir,)
    found: list[str] = []
    for file in expand_paths(data_dir, function=function):
        try:
            kind = detect(file)
        except (FormatError, OSError):
            continue
        if kind.table == "spans":
            found.append(str(file))
    return tuple(sorted(found))


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value`` (``value`` > 0)."""
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        nice = step * 10.0**exponent
        if nice >= value * (1 - 1e-12):
            return float(f"{nice:.12g}")
    return 10.0 ** (exponent + 1)  # pragma: no cover


#: Window widths :func:`plan` picks the drift windows from, widest first.
_DRIFT_EVERY: tuple[tuple[str, dt.timedelta], ...] = (
    ("1d", dt.timedelta(days=1)),
    ("6h", dt.timedelta(hours=6)),
    ("1h", dt.timedelta(hours=1)),
    ("15m", dt.timedelta(minutes=15)),
    ("5m", dt.timedelta(minutes=5)),
    ("1m", dt.timedelta(minutes=1)),
)


@dataclass(frozen=True)
class FleetPlan:
    """What a store's spans hold, and so which fleet questions they can answer.

    Made by :func:`plan`; each field is the caller's value when one was given, else found
    from the store.

    Attributes
    ----------
    rows : int
        Spans in the store.
    first, last : datetime or None
        The first and last span start (UTC).
    services : tuple of str
        Every service of the store.
    ttft_column : str or None
        The time-to-first-token attribute column (seconds), model-server spans first.
    server_services : tuple of str
        Services whose spans carry ``ttft_column`` (model-server requests).
    call_services : tuple of str
        Services whose spans are model calls (:func:`toolkit.llm_calls`) with the users'
        dimensions.
    dimensions : tuple of str
        Slice and group columns of the calls (:func:`toolkit.dimensions`), most even first.
    groups : tuple of str
        The dimensions that describe the user (``user.*``, ``enduser.*``: the groups a
        fairness check is about); all ``dimensions`` when none does.
    outcome_column : str or None
        The finish-reason column of the calls.
    every : str
        Drift window width.
    reference : (datetime, datetime) or None
        The drift reference: the first whole windows, about 30 % of the period.
    ttft_threshold_s : float or None
        A request is good when its first token came within this: the caller's, else the
        reference period's 99th percentile rounded up to 1, 2 or 5 x 10^k seconds.
    period : dict
        The ``start``/``end`` filters the plan was made for (empty: the whole store).
    starts : dict
        The first span start of each service.
    """

    rows: int
    first: dt.datetime | None
    last: dt.datetime | None
    services: tuple[str, ...]
    ttft_column: str | None
    server_services: tuple[str, ...]
    call_services: tuple[str, ...]
    dimensions: tuple[str, ...]
    groups: tuple[str, ...]
    outcome_column: str | None
    every: str
    reference: tuple[dt.datetime, dt.datetime] | None
    ttft_threshold_s: float | None
    period: dict[str, dt.datetime] = field(default_factory=dict)
    starts: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def server_filters(self) -> dict[str, Any]:
        """Filters of the model-server spans in the period (for :func:`alerts` ...)."""
        return {"service_name": list(self.server_services), **self.period}

    @property
    def call_filters(self) -> dict[str, Any]:
        """Filters of the model-call spans in the period (for :func:`drift` ...)."""
        return {"service_name": list(self.call_services), **self.period}

    @property
    def windows(self) -> int:
        """Drift windows of ``every`` in the period."""
        if self.first is None or self.last is None:
            return 0
        width = dict(_DRIFT_EVERY).get(self.every)
        if width is None:
            return 0
        start = pl.Series([self.first]).dt.truncate(self.every)[0]
        return int((self.last - start) // width) + 1

    @property
    def ttft_columns(self) -> tuple[str, ...]:
        """``(ttft_column,)``, or ``()`` when there is none (for a ``select``)."""
        return () if self.ttft_column is None else (self.ttft_column,)

    @property
    def good_ttft(self) -> pl.Expr:
        """A request is good when ``ttft_column <= ttft_threshold_s`` (null: bad)."""
        if self.ttft_column is None or self.ttft_threshold_s is None:
            raise ParameterError(
                "FleetPlan.good_ttft needs a TTFT column and threshold; the store has "
                f"ttft_column={self.ttft_column!r}, ttft_threshold_s={self.ttft_threshold_s!r}."
            )
        return pl.col(self.ttft_column) <= self.ttft_threshold_s

    @property
    def one_day(self) -> dict[str, Any]:
        """Filters selecting one UTC day of one service: the first day of the first model
        server, else of the service whose spans start first."""
        service = next(iter(self.server_services), None)
        if service is None and self.starts:
            service = min(self.starts, key=lambda s: (self.starts[s], s))
        service = service or next(iter(self.services), "")
        first = self.starts.get(service, self.first)
        if first is None:
            return {"service_name": service}
        day = first.replace(hour=0, minute=0, second=0, microsecond=0)
        return {"service_name": service, "start": day, "end": day + dt.timedelta(days=1)}

    @property
    def supports(self) -> dict[str, Any]:
        """Each question of the fleet notebook, and whether the store supports it.

        Keys ``"store"``, ``"slo"`` (TTFT burn rates and sketches), ``"drift"`` and
        ``"fairness"``; values are :class:`toolkit.Support`.
        """
        from toolkit.ingest.discover import HOW_TO_GET, Support

        spans = f"{self.rows:,} spans of {len(self.services)} service(s)"
        store = Support(
            "store",
            "spans in the store",
            spans,
            () if self.rows else ("spans",),
            "" if self.rows else HOW_TO_GET["spans"],
        )
        slo_missing = tuple(
            m
            for m, absent in (
                ("spans", not self.rows),
                ("a time-to-first-token attribute", self.ttft_column is None),
                ("model-server spans", self.ttft_column is not None and not self.server_services),
            )
            if absent
        )
        slo = Support(
            "slo",
            "model-server spans with time to first token (gen_ai.latency.time_to_first_token"
            " or gen_ai.response.time_to_first_chunk)",
            spans
            + (
                f"; TTFT in {self.ttft_column} on {', '.join(self.server_services)}"
                if self.ttft_column and self.server_services
                else "; no TTFT attribute"
            ),
            slo_missing,
            "trace the model server (vLLM's OpenTelemetry tracing writes "
            "gen_ai.latency.time_to_first_token), or stream with an instrumented client"
            if slo_missing
            else "",
        )
        calls = (
            f"model calls in {', '.join(self.call_services)}"
            if self.call_services
            else "no model call"
        )
        dims = f", dimensions {', '.join(self.dimensions)}" if self.dimensions else ""
        how_dims = (
            "set user or request attributes with a few values (tier, locale, route) on the "
            "model-call spans, or name a column"
        )
        drift_missing = tuple(
            m
            for m, absent in (
                ("model calls", not self.call_services),
                ("a dimension", bool(self.call_services) and not self.dimensions),
                (
                    f"windows after the reference (period shorter than two {self.every} windows)",
                    self.reference is None and bool(self.rows),
                ),
            )
            if absent
        )
        drift = Support(
            "drift",
            "model calls with a dimension, over at least two windows",
            calls + dims,
            drift_missing,
            how_dims if drift_missing else "",
        )
        fair_missing = tuple(
            m
            for m, absent in (
                ("model calls", not self.call_services),
                ("a group dimension", bool(self.call_services) and not self.dimensions),
                ("a finish-reason attribute", self.outcome_column is None),
            )
            if absent
        )
        fairness = Support(
            "fairness",
            "model calls with a group dimension and their finish reasons",
            calls + dims + (f", outcomes in {self.outcome_column}" if self.outcome_column else ""),
            fair_missing,
            how_dims + "; record gen_ai.response.finish_reasons" if fair_missing else "",
        )
        return {"store": store, "slo": slo, "drift": drift, "fairness": fairness}


def _aware(value: object, name: str, function: str) -> dt.datetime:
    """``value`` (a datetime or ISO-8601 text with a zone) as a UTC datetime."""
    parsed = value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        raise ParameterError(
            f"The {name!r} parameter of {function} must be a time-zone-aware datetime or "
            f"ISO-8601 text with its zone ('2026-01-05T00:00:00Z'). Got {value!r} instead."
        )
    return parsed.astimezone(dt.UTC)


def _names(value: object, parameter: str, function: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) and v for v in items):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a string or a list of "
            f"strings. Got {value!r} instead."
        )
    return tuple(items)


def plan(
    store: PathLike,
    *,
    ttft_column: str | None = None,
    server_services: str | Sequence[str] | None = None,
    call_services: str | Sequence[str] | None = None,
    dimensions: str | Sequence[str] | None = None,
    outcome_column: str | None = None,
    every: str | None = None,
    reference_days: float | None = None,
    ttft_threshold_s: float | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    sample_rows: int = 20_000,
) -> FleetPlan:
    """Find, from a store's spans, what the fleet questions need; the caller's values win.

    The TTFT column is the first time-to-first-token attribute of :data:`toolkit.semconv.
    ALIASES` present (the model server's ``gen_ai.latency.time_to_first_token`` first); the
    server services are those whose spans carry it. The model-call services, dimensions and
    finish-reason column come from :func:`toolkit.llm_calls` and :func:`toolkit.dimensions`
    on a sample of every service's spans (``sample_rows`` each, read on the driver). Drift
    windows are the widest of 1 d, 6 h, 1 h, 15 min, 5 min, 1 min that gives four windows
    or more, and the reference is the first ~30 % of them (at least one, leaving one).

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    ttft_column, outcome_column : str, optional
        Columns to use instead of the ones found (checked to exist).
    server_services, call_services, dimensions : str or list of str, optional
        Services and columns to use instead of the ones found.
    every : str, optional
        Drift window width.
    reference_days : float, optional
        Length of the drift reference, in days, from the first window.
    ttft_threshold_s : float, optional
        The TTFT threshold of a good request.
    start, end : datetime or ISO-8601 str with a zone, optional
        Plan for the spans that start in ``[start, end)`` only (the store may hold more).
    sample_rows : int, default 20000
        Spans per service read to find the calls' services, dimensions and outcomes.

    Returns
    -------
    FleetPlan

    Examples
    --------
    >>> import pathlib, tempfile
    >>> empty = plan(pathlib.Path(tempfile.mkdtemp()))
    >>> empty.rows, empty.ttft_column, empty.supports["store"].ok
    (0, None, False)
    """
    from toolkit import semconv
    from toolkit.fairness import USER_PREFIXES
    from toolkit.ingest.discover import dimensions as find_dimensions
    from toolkit.llm import llm_calls
    from toolkit.schema import require_columns

    function = "plan"
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 1:
        raise ParameterError(
            f"The 'sample_rows' parameter of {function} must be a positive integer. "
            f"Got {sample_rows!r} instead."
        )
    if reference_days is not None and (
        isinstance(reference_days, bool)
        or not isinstance(reference_days, int | float)
        or not reference_days > 0
    ):
        raise ParameterError(
            f"The 'reference_days' parameter of {function} must be a positive number of days. "
            f"Got {reference_days!r} instead."
        )
    period = {
        name: _aware(value, name, function)
        for name, value in (("start", start), ("end", end))
        if value is not None
    }
    lf = scan(store, filters=period)
    schema = lf.collect_schema()
    named = [c for c in (ttft_column, outcome_column) if c is not None]
    dims_given = _names(dimensions, "dimensions", function)
    require_columns(
        pl.DataFrame(schema=schema), [*named, *(dims_given or ())], table="spans", where=function
    )
    stats = (
        lf.select(
            pl.len().alias("rows"),
            pl.col("start_time").min().alias("first"),
            pl.col("start_time").max().alias("last"),
        )
        .collect()
        .row(0, named=True)
    )
    rows, first, last = int(stats["rows"]), stats["first"], stats["last"]
    starts = dict(
        lf.group_by("service_name")
        .agg(pl.col("start_time").min())
        .drop_nulls("service_name")
        .collect()
        .iter_rows()
    )
    services = tuple(sorted(str(s) for s in starts))
    numeric = (pl.Float64, pl.Float32, pl.Int64, pl.Int32)
    if ttft_column is None:
        keys = sorted(semconv.ALIASES["ttft_s"], key=lambda k: k not in semconv.SERVER_TTFT_KEYS)
        present = [semconv.attribute_column(k) for k in keys]
        ttft_column = next((c for c in present if schema.get(c) in numeric), None)
    servers = _names(server_services, "server_services", function)
    if servers is None:
        servers = ()
        if ttft_column is not None and rows:
            servers = tuple(
                sorted(
                    str(s)
                    for s in lf.filter(pl.col(ttft_column).is_not_null())
                    .select(pl.col("service_name").unique())
                    .collect()["service_name"]
                    if s is not None
                )
            )
    callers = _names(call_services, "call_services", function)
    dims = dims_given
    if rows and (callers is None or dims is None):
        sample = pl.concat(
            [
                scan(store, filters={"service_name": s, **period}).head(sample_rows).collect()
                for s in services
            ],
            how="diagonal_relaxed",
        )
        calls = llm_calls(sample)
        if callers is None:
            callers = tuple(sorted(str(s) for s in calls["service_name"].drop_nulls().unique()))
        if dims is None:
            dims = tuple(c for c in find_dimensions(calls) if c in schema)
    callers, dims = callers or (), dims or ()
    if outcome_column is None:
        present = [semconv.attribute_column(k) for k in semconv.ALIASES["finish_reason"]]
        outcome_column = next((c for c in present if c in schema), None)
    if every is None:
        every = "1d"
        if first is not None and last is not None:
            every = next(
                (name for name, width in _DRIFT_EVERY if (last - first) / width >= 4), "1m"
            )
    elif every not in dict(_DRIFT_EVERY):
        raise ParameterError(
            f"The 'every' parameter of {function} must be one of "
            f"{[name for name, _ in _DRIFT_EVERY]}. Got {every!r} instead."
        )
    width = dict(_DRIFT_EVERY)[every]
    reference = None
    if first is not None and last is not None:
        origin: dt.datetime = pl.Series([first]).dt.truncate(every)[0]
        windows = int((last - origin) // width) + 1
        if reference_days is not None:
            length = dt.timedelta(days=reference_days)
        else:
            length = width * max(1, round(0.3 * windows))
        if windows >= 2 and origin + length <= last:
            reference = (origin, origin + length)
    threshold = ttft_threshold_s
    if threshold is None and ttft_column is not None and servers:
        window = scan(store, filters={"service_name": list(servers), **period})
        if reference is not None:
            window = window.filter(pl.col("start_time") < reference[1])
        p99 = window.select(pl.col(ttft_column).quantile(0.99)).collect().item()
        threshold = _nice_ceiling(float(p99)) if p99 is not None and p99 > 0 else None
    return FleetPlan(
        rows=rows,
        first=first,
        last=last,
        services=services,
        ttft_column=ttft_column,
        server_services=servers,
        call_services=callers,
        dimensions=dims,
        groups=tuple(c for c in dims if c.startswith(USER_PREFIXES)) or dims,
        outcome_column=outcome_column,
        every=every,
        reference=reference,
        ttft_threshold_s=threshold,
        period=period,
        starts=starts,
    )


def exact_percentiles(
    store: PathLike,
    quantiles: Sequence[float],
    *,
    column: str,
    by: str = "service_name",
    filters: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Exact lower quantiles of ``column`` per ``by``, read on the driver (small stores).

    The reference that :func:`latency_percentiles` is within ``alpha`` of.

    Returns
    -------
    polars.DataFrame
        ``by`` and one column ``exact_p50``, ``exact_p99`` ... per quantile.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> exact_percentiles(pathlib.Path(tempfile.mkdtemp()), [0.5], column="duration_ms").columns
    ['service_name', 'exact_p50']
    """
    return (
        scan(store, filters=filters)
        .drop_nulls(column)
        .group_by(by)
        .agg(
            pl.col(column).quantile(q, interpolation="lower").alias(f"exact_p{100 * q:g}")
            for q in quantiles
        )
        .sort(by)
        .collect()
    )


def compare_percentiles(
    sketched: pl.DataFrame, exact: pl.DataFrame, *, by: str = "service_name"
) -> pl.DataFrame:
    """Sketched and exact percentiles side by side, with the worst relative error per row.

    Parameters
    ----------
    sketched : polars.DataFrame
        From :func:`latency_percentiles` (``p50``, ``p99`` ... columns).
    exact : polars.DataFrame
        From :func:`exact_percentiles` (``exact_p50`` ...).
    by : str, default "service_name"

    Returns
    -------
    polars.DataFrame
        The joined rows and ``relative_error``: the largest ``|sketch / exact - 1|`` over
        the quantiles of the row.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"service_name": ["a"], "count": [3], "p50": [1.01]})
    >>> e = pl.DataFrame({"service_name": ["a"], "exact_p50": [1.0]})
    >>> round(compare_percentiles(s, e)["relative_error"][0], 6)
    0.01
    """
    names = [c.removeprefix("exact_") for c in exact.columns if c.startswith("exact_")]
    joined = sketched.join(exact, on=by).sort(by)
    errors = [(pl.col(n) / pl.col(f"exact_{n}") - 1).abs() for n in names]
    return joined.with_columns(pl.max_horizontal(errors).alias("relative_error"))


def sources_support(sources: Sequence[str]) -> Any:
    """Whether there is anything to ingest, as a :class:`toolkit.Support` for a section.

    Examples
    --------
    >>> sources_support([]).missing, sources_support(["a.jsonl"]).ok
    (('spans',), True)
    """
    from toolkit.ingest.discover import HOW_TO_GET, Support

    found = f"{len(sources)} spans source(s)"
    if sources:
        return Support("ingest", "span exports (OTLP, Jaeger, Zipkin ...)", found)
    return Support(
        "ingest", "span exports (OTLP, Jaeger, Zipkin ...)", found, ("spans",), HOW_TO_GET["spans"]
    )


def ingest_runs(*runs: IngestResult) -> pl.DataFrame:
    """Several :func:`ingest` runs side by side: what each read, skipped and wrote.

    Returns
    -------
    polars.DataFrame
        ``run`` (1, 2 ...), ``files_read``, ``already_in_store``, ``failed`` (could not be
        read, under ``on_error="skip"``), ``rows_written``, ``parts_written``, ``seconds``.

    Examples
    --------
    >>> ingest_runs(IngestResult(ingested=["a"], rows=3, parts=1), IngestResult(skipped=["a"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    shape: (2, 7)
    ┌─────┬────────────┬──────────────────┬────────┬──────────────┬───────────────┬─────────┐
    │ run ┆ files_read ┆ already_in_store ┆ failed ┆ rows_written ┆ parts_written ┆ seconds │
    │ --- ┆ ---        ┆ ---              ┆ ---    ┆ ---          ┆ ---           ┆ ---     │
    │ i64 ┆ i64        ┆ i64              ┆ i64    ┆ i64          ┆ i64           ┆ f64     │
    ╞═════╪════════════╪══════════════════╪════════╪══════════════╪═══════════════╪═════════╡
    │ 1   ┆ 1          ┆ 0                ┆ 0      ┆ 3            ┆ 1             ┆ 0.0     │
    │ 2   ┆ 0          ┆ 1                ┆ 0      ┆ 0            ┆ 0             ┆ 0.0     │
    └─────┴────────────┴──────────────────┴────────┴──────────────┴───────────────┴─────────┘
    """
    return pl.DataFrame(
        [
            (i, len(r.ingested), len(r.skipped), len(r.failed), r.rows, r.parts, float(r.seconds))
            for i, r in enumerate(runs, start=1)
        ],
        schema={
            "run": pl.Int64,
            "files_read": pl.Int64,
            "already_in_store": pl.Int64,
            "failed": pl.Int64,
            "rows_written": pl.Int64,
            "parts_written": pl.Int64,
            "seconds": pl.Float64,
        },
        orient="row",
    )


def pages_by(fired: pl.DataFrame, by: str = "service_name") -> pl.DataFrame:
    """The pages of :func:`alerts` per group: how many, the first start and the last end.

    Returns
    -------
    polars.DataFrame
        ``by``, ``pages``, ``start``, ``end``, sorted by ``start``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> fired = pl.DataFrame({"service_name": ["a", "a", "b"],
    ...                       "severity": ["page", "page", "ticket"],
    ...                       "start": [t, t + dt.timedelta(hours=2), t],
    ...                       "end": [t + dt.timedelta(hours=1), t + dt.timedelta(hours=3), t]})
    >>> pages_by(fired).select("service_name", "pages").rows()
    [('a', 2)]
    """
    from toolkit.schema import require_columns

    require_columns(fired, [by, "severity", "start", "end"], table="alerts", where="pages_by")
    return (
        fired.filter(pl.col("severity") == "page")
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("pages"),
            pl.col("start").min(),
            pl.col("end").max(),
        )
        .sort("start")
    )
