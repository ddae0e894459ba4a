"""``genai-sre ingest``: fill a store from a shell."""

from __future__ import annotations

from typing import Any

from toolkit.scale._store import TABLES, connect, ingest


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
