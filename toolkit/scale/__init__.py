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

from toolkit.errors import StaleLockWarning, StoreLockedError
from toolkit.scale._cli import register_cli
from toolkit.scale._partials import (
    DDSketch,
    group_counts,
    histogram,
    latency_percentiles,
    latency_sketches,
    minute_counts,
)
from toolkit.scale._plan import (
    FleetPlan,
    compare_percentiles,
    exact_percentiles,
    ingest_runs,
    pages_by,
    plan,
    sources_support,
    span_sources,
)
from toolkit.scale._stats import (
    DimensionDrift,
    GroupGap,
    alerts,
    burn_rates,
    drift,
    group_gaps,
    most_drifted,
)
from toolkit.scale._store import IngestResult, connect, ingest, scan, to_dask

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
