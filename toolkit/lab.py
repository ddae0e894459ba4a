"""JupyterLab on the curated notebooks, as users open them.

``genai-sre lab`` copies the curated notebooks into a working copy (``~/genai-sre-notebooks``
unless told otherwise: the shipped files are never edited in place), installs the
project's kernel (``genai-sre``, shown as "Python (genai-sre toolkit)") into this
environment when it is missing, and starts JupyterLab on 127.0.0.1 with token
authentication on. ``--data DIR`` points every notebook at one's own exports for the
session: the notebooks' ``data_dir`` defaults to :func:`default_data_dir`, which reads
``GENAI_SRE_DATA_DIR``; a value given to ``genai-sre report --data`` or written into the
parameters cell still wins. ``genai-sre notebooks copy DEST`` makes a working copy alone.

From a laptop: ``ssh -L 8888:127.0.0.1:8888 host``, ``genai-sre lab --port 8888`` on the
host, then open the token URL it prints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit._validation import InstanceOf, Interval, caller, reject, validate_params
from toolkit.errors import ToolkitError

__all__ = [
    "DATA_DIR_ENV",
    "KERNEL_DISPLAY_NAME",
    "KERNEL_NAME",
    "NotebookCopy",
    "copy_notebooks",
    "default_data_dir",
    "default_workdir",
    "install_kernel",
    "lab_command",
    "lab_environment",
    "register_cli",
    "shipped_notebooks_dir",
]

#: The environment variable that sets the notebooks' default ``data_dir``.
DATA_DIR_ENV = "GENAI_SRE_DATA_DIR"
#: The name of the project's Jupyter kernel (the notebooks' ``kernelspec``).
KERNEL_NAME = "genai-sre"
#: What JupyterLab shows for it.
KERNEL_DISPLAY_NAME = "Python (genai-sre toolkit)"
#: Where a wheel install keeps the curated notebooks, under ``sys.prefix``.
_SHIPPED = ("share", "genai-sre-toolkit", "notebooks")
_CHECKOUT = Path(__file__).resolve().parents[1]


def default_data_dir(given: str | os.PathLike[str] | None = None) -> str:
    """The folder of exports a notebook reads: ``given``, else the session's default.

    The parameters cell of every curated notebook says ``data_dir = None``; its first code
    cell calls ``data_dir = default_data_dir(data_dir)``. A value given there, by
    ``genai-sre report -p data_dir=...`` or by papermill wins; otherwise
    ``GENAI_SRE_DATA_DIR`` when it is set (``genai-sre lab --data DIR`` sets it to DIR,
    absolute), else the sample exports of a source checkout (``data/sample``).

    Parameters
    ----------
    given : str, path-like or None
        The notebook's ``data_dir`` parameter.

    Returns
    -------
    str

    Examples
    --------
    >>> import os
    >>> default_data_dir("/data/week-48")
    '/data/week-48'
    >>> os.environ["GENAI_SRE_DATA_DIR"] = "/srv/exports"
    >>> default_data_dir()
    '/srv/exports'
    >>> del os.environ["GENAI_SRE_DATA_DIR"]
    >>> default_data_dir().endswith(os.path.join("data", "sample"))
    True
    """
    if given is not None:
        return os.fspath(given)
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return env
    return str(_CHECKOUT / "data" / "sample")


def shipped_notebooks_dir() -> Path:
    """The curated notebooks: a source checkout's ``notebooks/``, else the wheel's copy.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ToolkitError
        When neither holds a notebook (an install without its data files).

    Examples
    --------
    >>> sorted(p.name for p in shipped_notebooks_dir().glob("0[01]_*.ipynb"))
    ['00_tour.ipynb', '01_slo_error_budget.ipynb']
    """
    candidates = [_CHECKOUT / "notebooks", Path(sys.prefix).joinpath(*_SHIPPED)]
    for folder in candidates:
        if any(folder.glob("*.ipynb")):
            return folder
    raise ToolkitError(
        "The curated notebooks were not found (looked in "
        + " and ".join(str(c) for c in candidates)
        + "): reinstall genai-sre-toolkit, or pass a folder of notebooks (--notebooks DIR)."
    )


def default_workdir() -> Path:
    """Where ``genai-sre lab`` keeps its working copy: ``~/genai-sre-notebooks``.

    Examples
    --------
    >>> default_workdir().name
    'genai-sre-notebooks'
    """
    return Path.home() / "genai-sre-notebooks"


@dataclass(frozen=True)
class NotebookCopy:
    """What :func:`copy_notebooks` did: each curated notebook copied, already the same, or
    kept (the destination holds another version: your edits)."""

    dest: Path
    copied: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    kept: tuple[Path, ...]


@validate_params(
    dest=InstanceOf(str, os.PathLike, description="a folder"),
    overwrite=InstanceOf(bool),
    source=[InstanceOf(str, os.PathLike, description="a folder of .ipynb notebooks"), None],
)
def copy_notebooks(
    dest: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    source: str | os.PathLike[str] | None = None,
) -> NotebookCopy:
    """Copy the curated notebooks into ``dest`` for editing.

    Parameters
    ----------
    dest : path
        The working copy's folder (created when missing).
    overwrite : bool
        Replace notebooks of the same name that differ (your edits); by default they are
        kept and listed in ``kept``.
    source : path, optional
        The notebooks to copy; :func:`shipped_notebooks_dir` by default.

    Returns
    -------
    NotebookCopy

    Raises
    ------
    ParameterError
        When ``dest`` is a file, is the source folder itself, or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> first = copy_notebooks(folder)
    >>> [p.name for p in first.copied][:2]
    ['00_tour.ipynb', '01_slo_error_budget.ipynb']
    >>> again = copy_notebooks(folder)
    >>> len(again.copied), len(again.unchanged) == len(first.copied), again.kept
    (0, True, ())
    """
    origin = Path(source) if source is not None else shipped_notebooks_dir()
    notebooks = sorted(p for p in origin.glob("*.ipynb") if not p.name.startswith("."))
    if not notebooks:
        raise reject(
            "source", "be a folder of .ipynb notebooks", got=f"{str(origin)!r} (none found)"
        )
    target = Path(dest).expanduser()
    if target.exists() and not target.is_dir():
        raise reject("dest", "be a folder", got=f"{str(target)!r} (a file)")
    if target.resolve() == origin.resolve():
        raise reject(
            "dest",
            "not be the curated notebooks' own folder (they would be edited in place)",
            str(target),
        )
    copied: list[Path] = []
    unchanged: list[Path] = []
    kept: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for notebook in notebooks:
            out = target / notebook.name
            content = notebook.read_bytes()
            if out.exists():
                if out.read_bytes() == content:
                    unchanged.append(out)
                    continue
                if not overwrite:
                    kept.append(out)
                    continue
            out.write_bytes(content)  # not shutil.copy: a read-only install stays read-only
            copied.append(out)
    except OSError as exc:
        raise reject(
            "dest",
            "be a folder that can be written",
            got=f"{str(target)!r} ({type(exc).__name__}: {exc.strerror or exc})",
        ) from None
    return NotebookCopy(target, tuple(copied), tuple(unchanged), tuple(kept))


def _kernel_spec() -> dict[str, Any]:
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }


def install_kernel(prefix: str | os.PathLike[str] | None = None) -> Path:
    """Install the project's kernel (``genai-sre``) for this interpreter, when missing.

    The kernel runs this very Python (``sys.executable``), so the notebooks see the
    toolkit and its dependencies. An existing spec is rewritten only when it points
    elsewhere (another interpreter); JupyterLab shows it as "Python (genai-sre toolkit)".

    Parameters
    ----------
    prefix : path, optional
        The installation prefix: the spec goes to ``PREFIX/share/jupyter/kernels/genai-sre``.
        ``sys.prefix`` by default (the virtual environment), else, when that cannot be
        written, the user's Jupyter data directory.

    Returns
    -------
    pathlib.Path
        The kernel spec's directory.

    Raises
    ------
    ToolkitError
        When no location can be written.

    Examples
    --------
    >>> import json, tempfile
    >>> spec = install_kernel(tempfile.mkdtemp())
    >>> spec.name, json.loads((spec / "kernel.json").read_text())["display_name"]
    ('genai-sre', 'Python (genai-sre toolkit)')
    """
    base = Path(prefix) if prefix is not None else Path(sys.prefix)
    folders = [base / "share" / "jupyter" / "kernels" / KERNEL_NAME]
    if prefix is None:
        folders.append(_user_data_dir() / "kernels" / KERNEL_NAME)
    spec = _kernel_spec()
    text = json.dumps(spec, indent=1) + "\n"
    problems: list[str] = []
    for folder in folders:
        kernel_json = folder / "kernel.json"
        try:
            if kernel_json.exists() and json.loads(kernel_json.read_text("utf-8")) == spec:
                return folder
            folder.mkdir(parents=True, exist_ok=True)
            kernel_json.write_text(text, encoding="utf-8")
            _copy_logos(folder)
            return folder
        except (OSError, ValueError) as exc:
            problems.append(f"{folder}: {type(exc).__name__}")
    raise ToolkitError(
        "The genai-sre kernel could not be installed (" + "; ".join(problems) + "): give "
        "genai-sre lab a writable environment, or run `python -m ipykernel install --user "
        f"--name {KERNEL_NAME} --display-name '{KERNEL_DISPLAY_NAME}'`."
    )


def _user_data_dir() -> Path:
    try:
        from jupyter_core.paths import jupyter_data_dir
    except ImportError:  # pragma: no cover - jupyter_core comes with JupyterLab
        return Path.home() / ".local" / "share" / "jupyter"
    return Path(jupyter_data_dir())


def _copy_logos(folder: Path) -> None:
    try:
        from ipykernel.kernelspec import RESOURCES
    except ImportError:  # pragma: no cover - ipykernel comes with the notebooks extra
        return
    for logo in Path(RESOURCES).glob("logo-*"):
        shutil.copyfile(logo, folder / logo.name)


#: JupyterLab switches that turn authentication or request checks off when true.
_AUTH_SWITCHES = frozenset({"disable_check_xsrf", "allow_unauthenticated_access"})
_TRUE = ("true", "1", "yes")


def _options(args: Sequence[str]) -> list[tuple[str, str | None]]:
    """``(--option, value)`` pairs of a Jupyter command line, in either spelling
    (``--x.token=v`` and ``--x.token v``); a bare switch has the value None."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            if "=" in arg:
                option, value = arg.split("=", 1)
                out.append((option, value))
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                out.append((arg, args[i + 1]))
                i += 1
            else:
                out.append((arg, None))
        i += 1
    return out


def _given(options: list[tuple[str, str | None]], name: str) -> bool:
    return any(o.lstrip("-").lower().rsplit(".", 1)[-1] == name for o, _ in options)


@validate_params(
    notebooks_dir=[InstanceOf(str, os.PathLike, description="a folder"), None],
    port=[Interval(int, 1, 65535, description="an int from 1 to 65535"), None],
)
def lab_command(
    notebooks_dir: str | os.PathLike[str] | None = None,
    extra: Sequence[str] = (),
    *,
    port: int | None = None,
) -> list[str]:
    """The command that ``genai-sre lab`` runs: JupyterLab on the notebooks.

    JupyterLab runs on this interpreter with the project's kernel (:func:`install_kernel`)
    as its default, bound to 127.0.0.1 unless ``extra`` names an ``--ip``, its kernels on
    Unix sockets (not unencrypted TCP). Token authentication stays on: options that would
    turn it off are refused.

    Parameters
    ----------
    notebooks_dir : path, optional
        The folder JupyterLab opens; :func:`shipped_notebooks_dir` by default (the CLI
        passes a working copy).
    extra : list of str
        More JupyterLab arguments (``--no-browser``, ``--ServerApp.token=...`` ...).
    port : int, optional
        The port to listen on, exactly (no retry on the next ports: an SSH tunnel points
        at it); JupyterLab's choice (8888, else the next free one) by default.

    Returns
    -------
    list of str

    Raises
    ------
    ParameterError
        For an option that disables authentication, or a port outside 1-65535.

    Examples
    --------
    >>> lab_command("notebooks", ["--no-browser"])[1:5]
    ['-m', 'jupyterlab', '--ServerApp.root_dir=notebooks', '--ServerApp.ip=127.0.0.1']
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else shipped_notebooks_dir()
    args = [str(a) for a in extra]
    options = _options(args)
    for option, value in options:
        name = option.lstrip("-").lower()
        last = name.rsplit(".", 1)[-1]
        unquoted = (value or "").strip().strip("'\"").strip()
        disables = (
            (
                last in ("token", "password", "hashed_password")
                and value is not None
                and not unquoted
            )
            or (last in _AUTH_SWITCHES and (value is None or unquoted.lower() in _TRUE))
            or (last in ("allow_origin", "allow_origin_pat") and unquoted in ("*", ".*"))
        )
        if disables:
            shown = option if value is None else f"{option} {value!r}"
            raise reject(
                "extra",
                "leave token authentication on (a JupyterLab without it runs code for anyone "
                "who reaches its port)",
                shown,
            )
    head = [f"--ServerApp.root_dir={folder}"]
    if not _given(options, "ip"):
        head.append("--ServerApp.ip=127.0.0.1")  # never beyond this machine unless asked
    if not _given(options, "default_kernel_name"):
        head.append(f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}")
    if os.name == "posix" and not _given(options, "transport"):
        # kernels on Unix sockets in the runtime directory, not plain TCP on localhost
        head.append("--KernelManager.transport=ipc")
    if port is not None:
        head += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    return [sys.executable, "-m", "jupyterlab", *head, *args]


@validate_params(
    data_dir=[
        InstanceOf(str, os.PathLike, description="an existing folder or file of exports"),
        None,
    ]
)
def lab_environment(
    data_dir: str | os.PathLike[str] | None = None, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment ``genai-sre lab`` starts JupyterLab with (its kernels inherit it).

    Parameters
    ----------
    data_dir : path, optional
        The notebooks' default ``data_dir`` for the session (``GENAI_SRE_DATA_DIR``, made
        absolute: kernels run in the notebooks' folder); unset keeps the variable as it is.
    base : dict, optional
        The environment to start from; ``os.environ`` by default.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ParameterError
        When ``data_dir`` does not exist.

    Examples
    --------
    >>> env = lab_environment(".", base={"PATH": "/usr/bin"})
    >>> env["GENAI_SRE_DATA_DIR"] == os.path.abspath(".")
    True
    """
    env = dict(os.environ if base is None else base)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.exists():
            raise reject(
                "data_dir",
                "be an existing folder or file of exports",
                str(data_dir),
                function=f"{caller()} (genai-sre lab --data)",
            )
        env[DATA_DIR_ENV] = str(folder.resolve())
    return env


def _has_jupyterlab() -> bool:
    import importlib.util

    return importlib.util.find_spec("jupyterlab") is not None


def _say_copy(result: NotebookCopy, command: str) -> None:
    for path in result.copied:
        print(f"copied   {path}")
    for path in result.kept:
        print(f"kept     {path} (your edits; differs from the curated one)")
    if result.kept:
        print(
            f"{command}: {len(result.kept)} notebook(s) kept as you edited them; "
            f"`genai-sre notebooks copy {result.dest} --force` replaces them"
        )


def _lab_cli(args: Any) -> int:
    if not _has_jupyterlab():
        print(
            "genai-sre lab: JupyterLab is not installed; "
            "pip install 'genai-sre-toolkit[notebooks]'",
            file=sys.stderr,
        )
        return 2
    env = lab_environment(args.data)
    if args.notebooks is not None:
        folder = Path(args.notebooks)
    else:
        copied = copy_notebooks(args.workdir or default_workdir())
        _say_copy(copied, "genai-sre lab")
        folder = copied.dest
    spec = install_kernel()
    print(f"kernel   {KERNEL_DISPLAY_NAME} ({spec})")
    if DATA_DIR_ENV in env:
        print(f"data_dir {env[DATA_DIR_ENV]} (the notebooks' default; {DATA_DIR_ENV})")
    command = lab_command(folder, args.jupyter_args, port=args.port)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


def _copy_cli(args: Any) -> int:
    result = copy_notebooks(args.dest, overwrite=args.force)
    _say_copy(result, "genai-sre notebooks copy")
    print(
        f"{len(result.copied)} copied, {len(result.unchanged)} already up to date, "
        f"{len(result.kept)} kept, in {result.dest}"
    )
    return 0


def register_cli(subparsers: Any) -> None:
    """Add the ``lab`` and ``notebooks copy`` subcommands to ``genai-sre``'s parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="genai-sre")
    >>> register_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["lab", "--data", "d", "--port", "8899", "--", "--no-browser"])
    >>> args.data, args.port, args.jupyter_args, args.handler.__name__
    ('d', 8899, ['--no-browser'], '_lab_cli')
    >>> parser.parse_args(["notebooks", "copy", "mine"]).dest
    'mine'
    """
    lab = subparsers.add_parser(
        "lab",
        help="open JupyterLab on a working copy of the notebooks with the project's kernel",
        description="Copy the curated notebooks into a working copy (~/genai-sre-notebooks; "
        "notebooks you edited are kept), install the genai-sre kernel when missing, and open "
        "JupyterLab on 127.0.0.1 with token authentication on. Arguments after -- go to "
        "JupyterLab.",
    )
    lab.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help=f"your exports: the notebooks' default data_dir for the session ({DATA_DIR_ENV})",
    )
    lab.add_argument("--port", type=int, default=None, help="port to listen on (exactly)")
    lab.add_argument(
        "--workdir",
        default=None,
        metavar="DIR",
        help="the working copy's folder (default ~/genai-sre-notebooks)",
    )
    lab.add_argument(
        "--notebooks",
        default=None,
        metavar="DIR",
        help="open this folder of notebooks as it is instead of a working copy",
    )
    lab.add_argument("jupyter_args", nargs="*", help="arguments for JupyterLab (after --)")
    lab.set_defaults(handler=_lab_cli)
    notebooks = subparsers.add_parser(
        "notebooks", help="the curated notebooks", description="The curated notebooks."
    )
    actions = notebooks.add_subparsers(dest="notebooks_command", required=True)
    copy = actions.add_parser(
        "copy",
        help="copy the curated notebooks into DEST for editing",
        description="Copy the curated notebooks into DEST for editing. Notebooks of the "
        "same name that differ (your edits) are kept unless --force.",
    )
    copy.add_argument("dest", help="the folder to copy them into (created when missing)")
    copy.add_argument("--force", action="store_true", help="replace notebooks you edited")
    copy.set_defaults(handler=_copy_cli)
