"""The command line: ``genai-sre report`` (``genai-sre lab`` is :mod:`toolkit.lab`), the
``-p NAME=VALUE`` / ``--params FILE`` values (:func:`cli_parameters`) and
:func:`register_cli`.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit.errors import ParameterError, ToolkitError, preview
from toolkit.report._runner import _plain, _summary_text, run_report

# --------------------------------------------------------------------------- command line


def _cli_value(text: str) -> Any:
    """A ``-p`` value as papermill reads it: a Python literal, else the text itself."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def cli_parameters(
    assignments: Sequence[str] = (), params_file: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The notebook parameters of ``genai-sre report -p NAME=VALUE ... --params FILE``.

    Each ``-p`` value is read as a Python literal (``2.5``, ``None``, ``["a", "b"]``,
    ``'text'``) and, when it is none, kept as text (``h100-pool``), as papermill does. The
    ``--params`` file is a YAML mapping of names to values (dates and times become ISO-8601
    text); a ``-p`` of the same name wins.

    Parameters
    ----------
    assignments : list of str
        The ``-p`` options, ``"NAME=VALUE"`` each.
    params_file : path, optional
        The ``--params`` YAML file.

    Returns
    -------
    dict
        Names to values, for :func:`run_report`'s ``parameters``.

    Raises
    ------
    ParameterError
        For an assignment without ``=`` or whose name is not an identifier, a file that
        cannot be read or is not a YAML mapping of names, or a ``data_dir`` (set with
        ``--data``).

    Examples
    --------
    >>> cli_parameters(["ttft_slo_s=2.5", "pool=h100-pool", 'slices=["a","b"]', "start=None"])
    {'ttft_slo_s': 2.5, 'pool': 'h100-pool', 'slices': ['a', 'b'], 'start': None}
    """
    values: dict[str, Any] = {}
    if params_file is not None:
        values.update(_params_file(Path(params_file)))
    for item in assignments:
        name, equals, text = str(item).partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise ParameterError(
                "The '-p' option of genai-sre report must be NAME=VALUE, NAME a Python "
                f"identifier (-p ttft_slo_s=2.5). Got {preview(item)} instead."
            )
        values[name] = _cli_value(text)
    if "data_dir" in values:
        raise ParameterError(
            "The '-p' and '--params' options of genai-sre report must not set data_dir (use "
            "--data DIR). Got data_dir instead."
        )
    return values


def _params_file(path: Path) -> dict[str, Any]:
    import yaml

    where = "The '--params' option of genai-sre report must be a YAML file of name: value lines"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(
            f"{where}. Got {str(path)!r}, which cannot be read ({type(exc).__name__}) instead."
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise ParameterError(f"{where}. Got {str(path)!r} ({problem}{at}) instead.") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping) or not all(
        isinstance(k, str) and k.isidentifier() for k in loaded
    ):
        raise ParameterError(
            f"{where}. Got {str(path)!r}, holding {preview(loaded)}, instead (a mapping of "
            "parameter names to values is expected)."
        )
    return {str(k): _plain(v) for k, v in loaded.items()}


def _report_command(args: Any) -> int:
    progress = None if not args.quiet else False
    try:
        parameters = cli_parameters(args.parameter or (), args.params)
        result = run_report(
            args.data,
            args.out,
            only=args.only or None,
            no_input=args.no_input,
            notebooks_dir=args.notebooks,
            progress=progress,
            parameters=parameters,
        )
    except ToolkitError as exc:
        print(f"genai-sre report: error: {exc}", file=sys.stderr)
        return 2
    for nb in result.notebooks:
        skipped = (
            f"  ({len(nb.skipped)} of {len(nb.sections)} sections skipped)" if nb.skipped else ""
        )
        page = nb.html if nb.html is not None else "(no HTML written)"
        print(f"{nb.name:<28} {nb.status:<14} {nb.seconds:6.1f} s  {page}{skipped}")
    for nb in result.failures:
        print(f"genai-sre report: {nb.error}", file=sys.stderr)
    print(f"{_summary_text(result)}; index: {result.index}")
    return 0 if result.ok else 1


def register_cli(subparsers: Any) -> None:
    """Add the ``report`` subcommand to ``genai-sre``'s parser.

    Each subparser gets ``handler`` (a function of the parsed arguments returning the
    exit code) as a default, so ``main`` runs ``args.handler(args)``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="genai-sre")
    >>> register_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["report", "--data", "d", "--out", "o", "--no-input"])
    >>> args.data, args.out, args.no_input, args.handler.__name__
    ('d', 'o', True, '_report_command')
    """
    report = subparsers.add_parser(
        "report",
        help="run the notebooks on your exports and write HTML reports",
        description="Execute every notebook with data_dir pointing at your exports and "
        "write one self-contained HTML file per notebook plus index.html.",
    )
    report.add_argument("--data", default="data/sample", help="directory of the exports")
    report.add_argument("--out", default="reports", help="output directory (default reports)")
    report.add_argument(
        "--no-input", action="store_true", help="hide code: findings, figures and prose only"
    )
    report.add_argument(
        "--only", action="append", metavar="NOTEBOOK", help="run only this notebook (repeatable)"
    )
    report.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="set a notebook parameter (repeatable); VALUE is read as a Python literal "
        '(2.5, None, \'["a", "b"]\'), else kept as text; it goes to the notebooks that '
        "declare NAME",
    )
    report.add_argument(
        "--params", metavar="FILE", help="YAML file of parameter: value lines (-p wins)"
    )
    report.add_argument("--notebooks", default=None, help="notebooks directory")
    report.add_argument("--quiet", action="store_true", help="no progress bar")
    report.set_defaults(handler=_report_command)
