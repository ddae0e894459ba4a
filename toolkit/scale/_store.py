"""The partitioned Parquet store: its filesystem, manifest and lock, ingestion (on the
workers and the driver), reading (:func:`scan`, :func:`to_dask`) and the cluster
(:func:`connect`). The store layout is described in :mod:`toolkit.scale`.
"""

from __future__ import annotations

import datetime as dt
import glob as globlib
import hashlib
import json
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
from typing import IO, Any, Literal, cast

import polars as pl

from toolkit._progress import Progress
from toolkit._validation import (
    ON_ERROR,
    InstanceOf,
    Interval,
    OneOf,
    caller,
    reject,
    validate_params,
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
    preview,
)
from toolkit.ingest._frames import order_columns, unify_dtypes
from toolkit.ingest._io import PathLike, expand_paths
from toolkit.schema import LOGS, METRICS, SPANS, Table

TableName = Literal["spans", "logs", "metrics"]
TABLES: dict[str, Table] = {"spans": SPANS, "logs": LOGS, "metrics": METRICS}
#: ``table``: the canonical table a store holds.
_TABLE = OneOf(*TABLES, description="one of 'spans', 'logs' or 'metrics'")
#: The column a store partitions by day and filters ``start``/``end`` on, per table.
TIME = {"spans": "start_time", "logs": "time", "metrics": "time"}


def check_table(table: object, function: str) -> Table:
    """The canonical table named by ``table`` ("spans", "logs" or "metrics").

    Examples
    --------
    >>> check_table("logs", "scan").name
    'logs'
    """
    if not _TABLE.accepts(table):
        raise reject("table", "be " + _TABLE.words(), table, function=function)
    return TABLES[cast(str, table)]


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
        raise reject(
            "filters",
            "be a mapping with keys among 'service_name', 'start' and 'end'",
            filters,
            function=function,
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
        another machine can race. On local disk the file appears with all of ``data``.
        """
        target = self.path(rel)
        parent = target.rsplit("/", 1)[0]
        if self.local:
            os.makedirs(parent, exist_ok=True)
            # written whole under a temporary name, then hard-linked into place: the link
            # fails if the target exists, and a reader never sees it empty or half written
            tmp = f"{target}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise
            except OSError:  # a filesystem without hard links: exclusive create, then write
                fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                with os.fdopen(fd, "wb") as g:
                    g.write(data)
            finally:
                os.unlink(tmp)
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
            raise reject(
                "source",
                "match files",
                got=f"the pattern {url!r}, which matched no file",
                function=function,
            )
    elif fs.isdir(path):
        base = path.rstrip("/")
        infos = {
            p: i
            for p, i in fs.find(base, detail=True).items()
            if not any(part.startswith(".") for part in posixpath.relpath(p, base).split("/"))
        }
        if not infos:
            raise reject(
                "source",
                "hold files",
                got=f"the prefix {url!r}, which holds no file",
                function=function,
            )
    elif fs.isfile(path):
        infos = {path: fs.info(path)}
    else:
        raise reject(
            "source",
            "name existing files, directories, prefixes or glob patterns",
            got=f"{url!r}, which does not exist,",
            function=function,
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
        raise reject("source", "name at least one file", got="an empty list", function=function)
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


@validate_params(table=_TABLE, on_error=ON_ERROR)
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
    function = caller() or "scale.ingest"
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


@validate_params(table=_TABLE)
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
    return _lazy(_select(store, table, filters, caller() or "scale.scan"))


def _part_pandas(
    part: tuple[str, dict[str, pl.DataType]], sel: _Selection, columns: list[str]
) -> Any:
    from toolkit.schema import to_pandas

    lf = _part_lazy(sel, part)
    if sel.predicate is not None:
        lf = lf.filter(sel.predicate)
    return to_pandas(lf.select(columns).collect())


@validate_params(table=_TABLE)
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

    sel = _select(store, table, filters, caller() or "scale.to_dask")
    cols = list(sel.columns) if columns is None else list(columns)
    unknown = [c for c in cols if c not in sel.dtypes]
    if unknown:
        raise reject("columns", f"name columns of the store's {sel.table} table", unknown)
    meta = to_pandas(pl.DataFrame(schema={c: sel.dtypes[c] for c in cols}))
    if not sel.files:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(
        _part_pandas, sel.files, sel=sel, columns=cols, meta=meta, enforce_metadata=False
    )


# --- cluster and command line ---------------------------------------------------------

#: ``scheduler``: a dask scheduler's address.
_ADDRESS = InstanceOf(str, description="an address such as 'tcp://host:8786'")


@validate_params(scheduler=[_ADDRESS, None], workers=Interval(int, 1, None))
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

    if scheduler is not None:
        if not scheduler:
            raise reject("scheduler", "be " + _ADDRESS.words(), scheduler)
        return Client(scheduler)
    return Client(
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=dashboard_address,
    )
