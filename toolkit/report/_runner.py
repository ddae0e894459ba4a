"""Executing the notebooks with nbclient and exporting them: :func:`run_report`, its
:class:`ReportResult` (one :class:`NotebookReport` per notebook), the HTML pages, the
``index.html`` and ``findings.json``.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit._html import _cut
from toolkit._progress import Progress
from toolkit._validation import InstanceOf, Strings, reject, validate_params
from toolkit.errors import ToolkitError, preview
from toolkit.redact import redact
from toolkit.report._kernel import (
    SECTION_MIMETYPE,
    Record,
    Skipped,
    _jsonable,
    read_records,
    read_sections,
)

#: Content-Security-Policy of every page written: nothing from the network, no script.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'"
)

#: What became of a notebook (:attr:`NotebookReport.status`).
Status = Literal["ok", "not applicable", "failed"]
_STATUSES: tuple[Status, ...] = ("ok", "not applicable", "failed")

_CELL_TIMEOUT_S = 1800


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NotebookReport:
    """What became of one notebook in :func:`run_report`.

    Attributes
    ----------
    name : str
        The notebook's file stem (``"00_tour"``).
    title : str
        Its first Markdown heading.
    source : Path
        The ``.ipynb`` executed.
    html : Path or None
        The HTML written (also for a failed notebook, up to the failing cell).
    records : tuple of Record
        The key numbers it recorded.
    seconds : float
        Execution and export time.
    error : str or None
        For a failed notebook: the cell, the line that raised, the exception's type and
        message (``"20_fail.ipynb, cell 4, line 3 ('boom = 1 / 0'): ZeroDivisionError:
        division by zero"``).
    failed_cell : int or None
        1-based position of the failing cell in the notebook as stored.
    failed_line : int or None
        1-based line of the failing cell that raised, when the traceback names it.
    sections : tuple of (str, Skipped or None)
        The sections the notebook marked with :func:`section`, in order: None for one
        that ran, its :class:`Skipped` for one that did not.
    """

    name: str
    title: str
    source: Path
    html: Path | None
    records: tuple[Record, ...]
    seconds: float
    error: str | None = None
    failed_cell: int | None = None
    failed_line: int | None = None
    sections: tuple[tuple[str, Skipped | None], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every cell ran (also for a notebook that is "not applicable")."""
        return self.error is None

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """The sections that did not run: what each needs, what was found, how to get it."""
        return tuple(skip for _, skip in self.sections if skip is not None)

    @property
    def status(self) -> Status:
        """ "ok", "not applicable" or "failed".

        "failed": a cell raised (or the notebook could not start). "not applicable": it
        ran to the end, and it skipped at least one section and ran none, so the data
        held nothing it analyses. "ok" otherwise, also when some sections were skipped
        (:attr:`skipped` lists them) and for a notebook that marks no section at all (it
        ran every cell, and nothing says it had nothing to do).
        """
        if self.error is not None:
            return "failed"
        ran = any(skip is None for _, skip in self.sections)
        if self.skipped and not ran:
            return "not applicable"
        return "ok"

    @property
    def values(self) -> dict[str, Any]:
        """Recorded values by name (the last one wins for a repeated name)."""
        return {r.name: r.value for r in self.records}


@dataclass(frozen=True)
class ReportResult:
    """The outcome of :func:`run_report`: one entry per notebook, and the index page.

    Examples
    --------
    >>> result = ReportResult(out_dir=Path("reports"), index=Path("reports/index.html"))
    >>> result.ok, len(result.failures)
    (True, 0)
    """

    out_dir: Path
    index: Path
    notebooks: tuple[NotebookReport, ...] = ()
    seconds: float = 0.0
    data_dir: Path | None = None
    written: tuple[Path, ...] = field(default=())

    @property
    def failures(self) -> tuple[NotebookReport, ...]:
        """The notebooks that failed."""
        return tuple(nb for nb in self.notebooks if not nb.ok)

    @property
    def ok(self) -> bool:
        """Whether no notebook failed ("not applicable" is not a failure)."""
        return not self.failures

    @property
    def statuses(self) -> dict[str, Status]:
        """Each notebook's status ("ok", "not applicable", "failed"), by name."""
        return {nb.name: nb.status for nb in self.notebooks}

    def __getitem__(self, name: str) -> NotebookReport:
        for nb in self.notebooks:
            if name in (nb.name, nb.source.name):
                return nb
        raise KeyError(f"no notebook {name!r} in this report ({', '.join(self.names)})")

    @property
    def names(self) -> tuple[str, ...]:
        """The notebooks' names, in execution order."""
        return tuple(nb.name for nb in self.notebooks)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for nb in self.notebooks:
            status = nb.status if nb.ok else f"failed: {nb.error}"
            if nb.skipped:
                status += f" ({len(nb.skipped)} section(s) skipped)"
            rows.append(
                f"<tr><td>{esc(nb.name)}</td><td>{esc(status)}</td>"
                f"<td style='text-align:right'>{nb.seconds:.1f} s</td>"
                f"<td>{len(nb.records)}</td><td>{esc(str(nb.html or ''))}</td></tr>"
            )
        return (
            f"<p>Report in <code>{esc(str(self.out_dir))}</code>: "
            f"{esc(_summary_text(self))}, {self.seconds:.1f} s; index "
            f"<code>{esc(str(self.index))}</code></p><table><thead><tr><th>notebook</th>"
            "<th>status</th><th>time</th><th>records</th><th>HTML</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def __repr__(self) -> str:
        return (
            f"ReportResult({len(self.notebooks)} notebooks, {len(self.failures)} failed, "
            f"index={str(self.index)!r})"
        )


# --------------------------------------------------------------------------- running


def _default_notebooks_dir() -> Path:
    """The curated notebooks: a checkout's ``notebooks/``, else those a wheel installed."""
    from toolkit.lab import shipped_notebooks_dir

    try:
        return shipped_notebooks_dir()
    except ToolkitError:
        return Path(__file__).resolve().parents[2] / "notebooks"  # reported as missing


def _notebook_title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return str(line[2:].strip())
    return fallback


def _parameter_names(source: str) -> list[str]:
    names: list[str] = []
    for node in ast.parse(source).body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.append(target.id)
    return names


def _declared(path: Path) -> list[str]:
    """The names a notebook's (first) ``parameters`` cell assigns; none when it has none."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in _tags(cell):
            try:
                return _parameter_names(cell.source)
            except SyntaxError:
                return []
    return []


def _check_parameter_names(given: Mapping[str, Any], declared: Mapping[str, list[str]]) -> None:
    """Refuse a parameter that no selected notebook declares, listing those they do."""
    known = {name for names in declared.values() for name in names}
    unknown = [name for name in given if name not in known]
    if not unknown:
        return
    import difflib

    listing = "; ".join(
        f"{stem}: {', '.join(names) if names else 'none'}" for stem, names in declared.items()
    )
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), sorted(known), n=1)
        if close:
            hints.append(f"did you mean {close[0]!r} for {name!r}?")
    got = ", ".join(repr(name) for name in unknown)
    error = reject(
        "parameters",
        f"name parameters that the selected notebooks declare in their parameters cell ({listing})",
        got=got,
    )
    if hints:  # the hints go inside the sentence: "Got 'x' instead; did you mean 'y'?"
        error = type(error)(f"{str(error).removesuffix('.')}; {' '.join(hints)}")
    raise error


def _literal(name: str, value: Any) -> str:
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise reject(
            "parameters",
            "map names to literals (str, int, float, bool, None, list, dict)",
            got=f"{preview(value)} for {name!r}",
        )
    return f"{name} = {text}"


def _select(notebooks: list[Path], only: str | Sequence[str] | None) -> list[Path]:
    if only is None:
        return notebooks
    wanted = [only] if isinstance(only, str) else list(only)
    chosen: list[Path] = []
    for item in wanted:
        if not isinstance(item, str):
            raise reject("only", "be notebook names", got=preview(item))
        key = item.removesuffix(".ipynb")
        matches = [p for p in notebooks if p.stem == key or p.stem.split("_", 1)[0] == key]
        if not matches:
            raise reject(
                "only",
                f"name notebooks of {', '.join(p.stem for p in notebooks)}",
                got=repr(item),
            )
        chosen.extend(p for p in matches if p not in chosen)
    return sorted(chosen)


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return _cut(line.strip(), 80)
    return ""


#: "Cell In[7], line 3" in an IPython traceback: the cell's execution count and line.
_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
#: The temporary file IPython compiles a cell as, in a SyntaxError's message.
_CELL_FILE = re.compile(r" \((?:\d+|<[^>]*>|[\w-]+\.py), line \d+\)$")
_MESSAGE_CHARS = 300


def _raising_line(cell: Any) -> int | None:
    """The 1-based line of ``cell`` that raised, from the kernel's traceback of its error.

    The first "Cell In[n], line k" frame whose ``n`` is the cell's execution count is the
    cell's own frame (later ones are cells whose code it called); without an execution
    count, the first such frame. The line is counted in the cell as stored.
    """
    for output in cell.get("outputs", []) or []:
        if output.get("output_type") != "error":
            continue
        text = _ANSI.sub("", "\n".join(str(t) for t in output.get("traceback", []) or []))
        frames = [(int(n), int(k)) for n, k in _CELL_FRAME.findall(text)]
        if not frames:
            return None
        count = cell.get("execution_count")
        own = [k for n, k in frames if n == count]
        # IPython drops a cell's leading blank lines before it numbers the lines.
        lines = str(cell.get("source", "")).splitlines()
        blank = next((i for i, text in enumerate(lines) if text.strip()), 0)
        return (own[0] if own else frames[0][1]) + blank
    return None


def _exception_text(name: str, message: str) -> str:
    """``"Type: message"`` on one line, ANSI codes stripped, cut to a bounded length."""
    name = _ANSI.sub("", name).strip() or "Error"
    message = _ANSI.sub("", message).strip()
    if name in ("SyntaxError", "IndentationError", "TabError"):
        message = _CELL_FILE.sub("", message)
    message = " ".join(message.split())
    return f"{name}: {_cut(message, _MESSAGE_CHARS)}" if message else name


def _kernel_manager(socket_dir: str) -> Any:
    """A kernel manager that runs this very interpreter's ipykernel over local sockets."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # No kernel directories: the native "python3" spec of the running interpreter
    # (ipykernel's own resources, argv[0] = sys.executable) is used, whatever is installed
    # in the user's Jupyter paths.
    specs = KernelSpecManager(kernel_dirs=[])
    # IPC (Unix sockets in a private directory) rather than unencrypted TCP on localhost.
    transport = "ipc" if os.name == "posix" else "tcp"
    options: dict[str, Any] = {"transport": transport}
    if transport == "ipc":
        options["ip"] = os.path.join(socket_dir, "kernel")
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs, **options)


def _section_ran(output: Any) -> bool:
    marker = (output.get("data") or {}).get(SECTION_MIMETYPE)
    return isinstance(marker, Mapping) and bool(marker.get("ran"))


def _prepare_outputs(nb: Any, title: str) -> None:
    """Redact plain-text outputs (prints, errors, reprs), drop the "section ran" markers,
    give every figure an alt text."""
    figures = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # The "section ran" marker of `section` is for the index page: nothing to show.
        cell["outputs"] = [o for o in cell.get("outputs", []) if not _section_ran(o)]
        for output in cell["outputs"]:
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = redact(output["text"])
            elif kind == "error":
                output["evalue"] = redact(output.get("evalue", ""))
                output["traceback"] = [redact(line) for line in output.get("traceback", [])]
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if isinstance(data.get("text/plain"), str):
                    data["text/plain"] = redact(data["text/plain"])
                if "image/png" in data:
                    figures += 1
                    meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                    meta.setdefault("alt", f"Figure {figures} of {title}")


_TEMPLATE_NAME = "genai_sre_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.genai_sre_csp }}">
<style type="text/css">
main { max-width: 1100px; margin: 0 auto; }
.genai-sre-table table { border-collapse: collapse; font-size: 12px; }
.genai-sre-table th, .genai-sre-table td { padding: 2px 8px; border-bottom: 1px solid #ddd; }
</style>
{%- endblock extra_css -%}
{%- block data_javascript scoped -%}
<div class="jp-OutputArea-output {{ extra_class }}">
<pre>[JavaScript output not shown in this report]</pre></div>
{%- endblock data_javascript -%}
{%- block data_widget_view scoped -%}
<div class="jp-OutputArea-output {{ extra_class }}">
<pre>[widget not shown in this report]</pre></div>
{%- endblock data_widget_view -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('image/png', {}).get('alt', 'figure') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


def _exporter(no_input: bool) -> Any:
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=True,
        embed_images=True,
    )


def _export(nb: Any, path: Path, title: str, exporter: Any) -> None:
    import nbformat

    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title}, "genai_sre_csp": CSP}
    )
    # The theme's CSS comments cite web pages: drop comments from the head so that the
    # page names no network address outside the notebook's own content.
    head, marker, rest = body.partition("<body")
    head = re.sub(r"/\*.*?\*/", "", head, flags=re.DOTALL)
    path.write_text(head + marker + rest, encoding="utf-8")


def _run_one(
    path: Path,
    out_dir: Path,
    injected: dict[str, Any],
    exporter: Any,
    bar: Progress,
    env: dict[str, str],
    socket_dir: str,
) -> NotebookReport:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    started = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    title = _notebook_title(nb, path.stem)
    html_path = out_dir / f"{path.stem}.html"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)]
    problem: str | None = None
    position = tagged[0] if tagged else -1
    if not tagged:
        problem = f"{path.name}: no cell is tagged 'parameters' (JupyterLab: cell inspector)"
    else:
        try:
            defined = _parameter_names(nb.cells[position].source)
        except SyntaxError as exc:
            problem = f"{path.name}, cell {position + 1} (the parameters cell): {exc}"
        else:
            if "data_dir" not in defined:
                problem = f"{path.name}: the parameters cell does not define data_dir"
    if problem is not None:
        seconds = time.perf_counter() - started
        cell_number = position + 1 if tagged else None
        return NotebookReport(path.stem, title, path, None, (), seconds, problem, cell_number)
    lines = ["# Parameters injected by toolkit.report.run_report"]
    lines += [_literal(name, value) for name, value in injected.items() if name in defined]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(position + 1, cell)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    current = {"index": -1, "done": 0}

    def on_start(cell: Any, cell_index: int) -> None:
        current["index"] = cell_index
        bar.describe(f"{path.stem}: cell {cell_index + 1}/{len(nb.cells)}")

    def on_complete(cell: Any, cell_index: int) -> None:
        current["done"] += 1
        bar.update(1)

    km = _kernel_manager(socket_dir)
    client = NotebookClient(
        nb,
        km=km,
        timeout=_CELL_TIMEOUT_S,
        startup_timeout=120,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_start,
        on_cell_complete=on_complete,
    )
    error: str | None = None
    failed: int | None = None
    line: int | None = None
    try:
        client.execute(env=env)
    except Exception as exc:  # any failure is reported, the other notebooks still run
        index = current["index"]
        if isinstance(exc, CellExecutionError):
            why = _exception_text(exc.ename, exc.evalue)
        else:
            why = _exception_text(type(exc).__name__, str(exc))
        if index < 0:
            where = "before the first cell (starting the kernel)"
        elif index == position + 1:
            where = "the injected parameters cell"
        else:
            failed = index + 1 if index <= position else index
            source = nb.cells[index].source
            line = _raising_line(nb.cells[index])
            if line is not None and line <= len(source.splitlines()):
                quoted = _cut(source.splitlines()[line - 1].strip(), 120)
                where = f"cell {failed}, line {line} ({quoted!r})"
            else:
                line = None
                where = f"cell {failed} ({_first_line(source)!r})"
        error = redact(_ANSI.sub("", f"{path.name}, {where}: {why}"))
    finally:
        bar.update(code_cells - current["done"])
        # The client does not own a kernel manager it was given: stop both here.
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    sections = read_sections(nb)
    _prepare_outputs(nb, title)
    _export(nb, html_path, title, exporter)
    return NotebookReport(
        path.stem,
        title,
        path,
        html_path,
        read_records(nb),
        time.perf_counter() - started,
        error,
        failed,
        line,
        sections,
    )


_PATH = InstanceOf(str, os.PathLike, description="a path")


@validate_params(
    data_dir=_PATH,
    out_dir=_PATH,
    only=[InstanceOf(str), Strings(description="a list of notebook names"), None],
    no_input=InstanceOf(bool, description="a bool"),
    notebooks_dir=[_PATH, None],
    progress=[InstanceOf(bool), None],
    parameters=[InstanceOf(Mapping, description="a mapping of parameter names to values"), None],
)
def run_report(
    data_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    only: str | Sequence[str] | None = None,
    no_input: bool = False,
    notebooks_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> ReportResult:
    """Execute the notebooks on the exports in ``data_dir`` and write HTML reports.

    Each notebook runs in a fresh kernel of this interpreter, with a cell injected after
    its ``parameters`` cell that sets ``data_dir`` (absolute) and any ``parameters``
    given. One self-contained HTML file per notebook and an ``index.html`` with the
    headline findings are written to ``out_dir``, plus ``findings.json`` (every record).
    A failing notebook does not stop the others; its error names the cell, the line that
    raised and the exception's type and message.

    Parameters
    ----------
    data_dir : path
        Directory of the exports (the notebooks' ``data_dir`` parameter).
    out_dir : path
        Where the reports go (created if missing).
    only : str or list of str, optional
        Notebooks to run, by stem (``"00_tour"``) or number prefix (``"00"``).
    no_input : bool, default False
        Hide code cells' input: findings, figures and prose only.
    notebooks_dir : path, optional
        Where the notebooks are; the project's ``notebooks/`` by default.
    progress : bool, optional
        Progress bar per notebook and cell: None shows it after two seconds (unless
        ``TOOLKIT_PROGRESS=0``), True at once, False never.
    parameters : mapping, optional
        More parameter values (literals; dates and times are given to the notebooks as
        ISO-8601 text), each injected into the selected notebooks whose
        parameters cell declares it (``tz`` goes to every notebook that has a ``tz``); a
        name that no selected notebook declares is an error that lists each notebook's
        parameters.

    Returns
    -------
    ReportResult
        Per notebook: HTML path, records, time, status ("ok", "not applicable",
        "failed"), skipped sections, error; ``.failures`` lists the failed ones and
        ``.ok`` is True when none failed.

    Raises
    ------
    ParameterError
        For a missing data or notebooks directory, an unknown notebook or parameter.

    Examples
    --------
    >>> run_report("no/such/dir", "out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'data_dir' parameter of report.run_report must be ...
    """
    data = Path(data_dir)
    if not data.is_dir():
        raise reject("data_dir", "be an existing directory", got=repr(str(data)))
    source_dir = Path(notebooks_dir) if notebooks_dir is not None else _default_notebooks_dir()
    if not source_dir.is_dir():
        raise reject(
            "notebooks_dir",
            "be an existing directory (the project's notebooks/ by default)",
            got=repr(str(source_dir)),
        )
    available = sorted(p for p in source_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not available:
        raise reject(
            "notebooks_dir", "hold .ipynb notebooks", got=f"{str(source_dir)!r} (none found)"
        )
    chosen = _select(available, only)
    if parameters is not None and not all(isinstance(k, str) for k in parameters):
        raise reject(
            "parameters", "be a mapping of parameter names to values", got=preview(parameters)
        )
    extra = {name: _plain(value) for name, value in (parameters or {}).items()}
    if "data_dir" in extra:
        raise reject(
            "parameters",
            "not set data_dir (use the data_dir argument)",
            got="{'data_dir': ...}",
        )
    import nbformat

    if extra:
        _check_parameter_names(extra, {p.stem: _declared(p) for p in chosen})
        for name, value in extra.items():
            _literal(name, value)
    injected = {"data_dir": str(data.resolve()), **extra}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["TOOLKIT_PROGRESS"] = "0"  # no progress bars inside the reports
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["GENAI_SRE_REPORT_DIR"] = str(out.resolve())  # files a notebook writes go next to it
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    exporter = _exporter(no_input)
    total = 0
    for path in chosen:
        nb = nbformat.read(path, as_version=4)
        total += sum(c.cell_type == "code" for c in nb.cells) + 1
    started = time.perf_counter()
    reports: list[NotebookReport] = []
    with (
        Progress("report", total=total, unit="cell", enabled=progress) as bar,
        tempfile.TemporaryDirectory(prefix="genai-sre-") as socket_dir,
    ):
        for path in chosen:
            bar.describe(path.stem)
            reports.append(_run_one(path, out, injected, exporter, bar, env, socket_dir))
    written = [nb.html for nb in reports if nb.html is not None]
    result = ReportResult(
        out_dir=out,
        index=out / "index.html",
        notebooks=tuple(reports),
        seconds=time.perf_counter() - started,
        data_dir=data,
        written=(*written, out / "index.html", out / "findings.json"),
    )
    _write_index(result)
    _write_findings(result)
    return result


_INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 960px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
section { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
section.failed { border-color: #c62828; background: #fff5f5; }
section.not-applicable { border-color: #bbb; background: #fafafa; }
h2 { font-size: 1.15em; margin: 0.2em 0; }
.status { font-size: 0.85em; padding: 1px 6px; border-radius: 3px; background: #e8f5e9; }
.failed .status { background: #ffcdd2; }
.not-applicable .status { background: #eeeeee; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: 0.5em; }
.skipped { border-left: 4px solid #d0a000; background: #fff8e1; padding: 0.3em 0.8em;
           margin: 0.5em 0; font-size: 0.92em; }
.skipped ul { margin: 0.2em 0; padding-left: 1.2em; }
"""


def _summary_text(result: ReportResult) -> str:
    """ "8 notebook(s): 5 ok, 2 not applicable, 1 failed" (or "..., all ran")."""
    counts = {s: sum(nb.status == s for nb in result.notebooks) for s in _STATUSES}
    failed = counts["failed"]
    text = f"{len(result.notebooks)} notebook(s), " + (f"{failed} failed" if failed else "all ran")
    rest = [f"{counts[s]} {s}" for s in ("ok", "not applicable") if counts[s]]
    return text + (f" ({', '.join(rest)})" if rest else "")


def _skipped_html(skipped: Sequence[Skipped]) -> str:
    """The index page's list of skipped sections of one notebook (text redacted, escaped)."""
    if not skipped:
        return ""
    esc = html.escape

    def clean(text: str) -> str:
        return esc(redact(text))

    items = []
    for skip in skipped:
        parts = [f"<b>{clean(skip.section)}</b>: needs {clean(skip.needs)}"]
        parts.append(f"; found {clean(skip.found)}")
        if skip.missing:
            parts.append(f"; missing {clean(', '.join(skip.missing))}")
        if skip.how:
            parts.append(f". <i>How to get it:</i> {clean(skip.how)}")
        items.append(f"<li>{''.join(parts)}</li>")
    return f"<div class='skipped'>{len(skipped)} section(s) skipped:<ul>{''.join(items)}</ul></div>"


_SEVERITY_FILL = {"page": "#C44E52", "ticket": "#DD8452"}


def _incidents_html(result: ReportResult) -> str:
    """The index's opening "Incidents this period": a timeline (inline SVG) and one line per
    incident, linked to its evidence in the notebook that recorded ``incidents`` (08)."""
    esc = html.escape
    for nb in result.notebooks:
        # the review's incidents: the notebook that ran the detectors (08) recorded them;
        # notebook 02 records its incident windows under the same name
        if not any(r.name == "detectors.ran" for r in nb.records):
            continue
        record = next(
            (r for r in nb.records if r.name == "incidents" and isinstance(r.value, list)), None
        )
        if record is None:
            continue
        rows = [r for r in record.value if isinstance(r, Mapping) and r.get("start")]
        if not rows:
            return (
                "<section><h2>Incidents this period</h2><p>No incident: no detector fired.</p>"
                "</section>"
            )
        times = [
            (
                dt.datetime.fromisoformat(str(r["start"])),
                dt.datetime.fromisoformat(str(r["end"] or r["start"])),
            )
            for r in rows
        ]
        lo, hi = min(t[0] for t in times), max(t[1] for t in times)
        span = max((hi - lo).total_seconds(), 1.0)
        width, left, bar = 900, 230, 14
        bars = []
        for y, (row, (start, end)) in enumerate(zip(rows, times, strict=True)):
            x = left + (width - left - 10) * (start - lo).total_seconds() / span
            w = max(2.0, (width - left - 10) * (end - start).total_seconds() / span)
            fill = _SEVERITY_FILL.get(str(row.get("severity")), "#8172B3")
            name = esc(redact(str(row.get("incident", ""))))
            bars.append(
                f'<text x="{left - 6}" y="{y * (bar + 4) + bar - 3}" font-size="11" '
                f'text-anchor="end">{name}</text>'
                f'<rect x="{x:.1f}" y="{y * (bar + 4)}" width="{w:.1f}" height="{bar}" '
                f'fill="{fill}"><title>{name}</title></rect>'
            )
        height = len(rows) * (bar + 4) + 16
        axis = (
            f'<text x="{left}" y="{height - 2}" font-size="10">{lo:%a %d %b %H:%M} UTC</text>'
            f'<text x="{width - 10}" y="{height - 2}" font-size="10" text-anchor="end">'
            f"{hi:%a %d %b %H:%M} UTC</text>"
        )
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="incident timeline">{"".join(bars)}{axis}</svg>'
        )
        items = []
        for row in rows:
            name = str(row.get("incident", ""))
            link = (
                f'<a href="{esc(nb.html.name)}#{esc(name)}">{esc(redact(name))}</a>'
                if nb.html is not None
                else esc(redact(name))
            )
            start = dt.datetime.fromisoformat(str(row["start"]))
            step = row.get("next_step")
            items.append(
                f"<li><b>{esc(str(row.get('severity', '')))}</b> {link} from "
                f"{start:%a %d %H:%M} UTC: {esc(redact(str(row.get('cause') or '')))}"
                + (f"<br><i>Next:</i> {esc(redact(str(step)))}" if step else "")
                + "</li>"
            )
        return f"<section><h2>Incidents this period</h2>{svg}<ul>{''.join(items)}</ul></section>"
    return ""


def _write_index(result: ReportResult) -> None:
    esc = html.escape
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = []
    for nb in result.notebooks:
        link = (
            f'<a href="{esc(nb.html.name)}">{esc(nb.title)}</a>'
            if nb.html is not None
            else esc(nb.title)
        )
        status = nb.status
        nothing = (
            "not applicable to this data: every section was skipped (below)"
            if status == "not applicable"
            else "no headline findings recorded"
        )
        findings = [f"<li>{esc(r.headline)}</li>" for r in nb.records if r.headline] or [
            f"<li class='meta'>{nothing}</li>"
        ]
        error = f"<pre>{esc(redact(nb.error))}</pre>" if nb.error else ""
        sections.append(
            f'<section class="{status.replace(" ", "-")}"><h2>{link} '
            f'<span class="status">{status}</span></h2>'
            f'<div class="meta">{esc(nb.source.name)} · {nb.seconds:.1f} s</div>{error}'
            f"<ul>{''.join(findings)}</ul>{_skipped_html(nb.skipped)}</section>"
        )
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>genai-sre report</title><style>{_INDEX_CSS}</style></head><body>"
        "<h1>genai-sre report</h1>"
        f"<p class='meta'>{esc(_summary_text(result))} · generated {esc(generated)}"
        + (f" · data: <code>{esc(str(result.data_dir))}</code>" if result.data_dir else "")
        + "</p>"
        + _incidents_html(result)
        + "".join(sections)
        + "</body></html>\n"
    )
    result.index.write_text(page, encoding="utf-8")


def _skipped_json(skip: Skipped) -> dict[str, Any]:
    return {
        "section": skip.section,
        "needs": skip.needs,
        "found": skip.found,
        "missing": list(skip.missing),
        "how": skip.how,
    }


def _write_findings(result: ReportResult) -> None:
    findings = {
        nb.name: {
            "title": nb.title,
            "ok": nb.ok,
            "status": nb.status,
            "error": nb.error,
            "failed_cell": nb.failed_cell,
            "failed_line": nb.failed_line,
            "seconds": round(nb.seconds, 3),
            "html": nb.html.name if nb.html else None,
            "sections_run": [title for title, skip in nb.sections if skip is None],
            "skipped": [_jsonable(_skipped_json(skip), None) for skip in nb.skipped],
            "records": [
                {"name": r.name, "value": r.value, "headline": r.headline} for r in nb.records
            ],
        }
        for nb in result.notebooks
    }
    (result.out_dir / "findings.json").write_text(
        json.dumps(_escaped(findings), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _escaped(value: Any) -> Any:
    """Every text of findings.json, keys included, redacted and with its markup escaped:
    whatever reads the file next (a dashboard, a chat message) gets no live markup."""
    if isinstance(value, str):
        return html.escape(redact(value), quote=False)
    if isinstance(value, Mapping):
        return {_escaped(str(k)): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Dates and times (YAML's, or run_report's) as ISO-8601 text, as notebooks take them."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
