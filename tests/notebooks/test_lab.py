"""JupyterLab as users use it, in a real headless Chromium (issue 21).

The test starts JupyterLab the way ``genai-sre lab`` does (``toolkit.lab``: a working copy
of the curated notebooks, the genai-sre kernel, ``lab_command``, ``lab_environment`` with
``--data`` set to the sample), on 127.0.0.1 with a token, and drives Debian's ``chromium``
with Playwright: each notebook is opened, run through the "Run > Run All Cells" menu, and
must end with every code cell executed, no error output, every figure rendered; then the
parameters cell of two notebooks is edited in the editor to point at another folder (the
stand-in exports of conftest), they are run again, and the new findings must show. Every
request the page makes outside 127.0.0.1 is blocked and counted (none is expected).
Without Chromium, Playwright or JupyterLab the tests skip, and fail under
TOOLKIT_REQUIRE_REAL_DATA=1 or in CI. TOOLKIT_LAB_NOTEBOOKS=00_tour,02_trace_bottlenecks runs
only those (all notebooks take 8-15 minutes on two shared cores).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nbformat
import pytest
from conftest import SAMPLE, write_standin

from toolkit import lab
from toolkit.report import read_records

#: Notebooks run a second time on the stand-in exports, after editing their parameters cell.
SECOND_PASS = ("00_tour", "02_trace_bottlenecks")
_CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_NOTEBOOK_SECONDS = 600  # the longest a notebook may take to run all its cells


def _needed() -> str:
    """Debian's chromium; skips (fails under TOOLKIT_REQUIRE_REAL_DATA=1 / CI) without it."""
    found = os.environ.get("TOOLKIT_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    problem = None
    if not found:
        problem = "no chromium on PATH (Debian: apt-get install chromium)"
    else:
        import importlib.util

        for module, package in (("playwright", "playwright"), ("jupyterlab", "jupyterlab")):
            if importlib.util.find_spec(module) is None:
                problem = f"{package} is not installed (pip install {package})"
    if problem:
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1" or os.environ.get("CI"):
            pytest.fail(
                f"the JupyterLab browser test needs Chromium, Playwright, JupyterLab: {problem}"
            )
        pytest.skip(problem)
    assert found is not None
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Lab:
    base: str
    token: str
    notebooks: Path
    log: Path
    blocked: list[str] = field(default_factory=list)

    def api(self, path: str, *, token: bool = True, method: str = "GET") -> Any:
        headers = {"Authorization": f"token {self.token}"} if token else {}
        request = urllib.request.Request(f"{self.base}{path}", headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_idle(self, name: str) -> bool:
        sessions = self.api("/api/sessions")
        kernels = [s["kernel"] for s in sessions if Path(s["path"]).stem == name]
        return bool(kernels) and all(
            k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels
        )


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Lab]:
    _needed()
    root = tmp_path_factory.mktemp("lab")
    work = lab.copy_notebooks(root / "genai-sre-notebooks").dest  # as genai-sre lab does
    lab.install_kernel(root / "prefix")
    env = lab.lab_environment(SAMPLE)  # genai-sre lab --data data/sample
    for name, folder in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ):
        env[name] = str(root / folder)  # nothing of the user's Jupyter setup
    env["JUPYTER_PATH"] = str(root / "prefix" / "share" / "jupyter")
    env["TOOLKIT_PROGRESS"] = "0"
    token = secrets.token_hex(24)
    port = _free_port()
    extra = ["--no-browser", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-root")  # CI containers run as root
    command = lab.lab_command(work, extra, port=port)
    log = root / "jupyterlab.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    running = _Lab(f"http://127.0.0.1:{port}", token, work, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                running.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser(jupyter: _Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=_needed(), args=_CHROMIUM_FLAGS)
        yield instance
        instance.close()


def test_the_api_refuses_requests_without_the_token(jupyter: _Lab) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        jupyter.api("/api/contents", token=False)
    refused.value.close()  # its socket
    assert refused.value.code == 403
    listing = jupyter.api("/api/contents")
    assert {item["name"] for item in listing["content"]} >= {"00_tour.ipynb"}
    specs = jupyter.api("/api/kernelspecs")
    assert specs["default"] == "genai-sre"
    assert "genai-sre" in specs["kernelspecs"]["genai-sre"]["spec"]["display_name"]


@dataclass
class _Run:
    """What one "Run All Cells" left: the saved notebook, the page's figures and text."""

    notebook: Any
    images: list[list[Any]]
    stderr: list[str]
    text: str
    seconds: float

    @property
    def records(self) -> dict[str, Any]:
        return {r.name: r.value for r in read_records(self.notebook)}


class _Notebook:
    """One notebook open in JupyterLab in its own browser page."""

    def __init__(self, jupyter: _Lab, browser: Any, name: str) -> None:
        self.jupyter, self.name = jupyter, name
        self.path = jupyter.notebooks / f"{name}.ipynb"
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
                r.continue_()
            else:
                jupyter.blocked.append(url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # reset: no tab of an earlier page reopened from the saved workspace
        self.page.goto(f"{jupyter.base}/lab/tree/{name}.ipynb?reset&token={jupyter.token}")
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        panels = self.page.locator(".jp-NotebookPanel").count()
        assert panels == 1, f"{name}: {panels} notebooks open"
        self.wait_idle(120)

    def wait_idle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.jupyter.kernel_idle(self.name):
            assert time.monotonic() < deadline, f"{self.name}: the kernel did not go idle"
            self.page.wait_for_timeout(250)

    def run_all(self) -> _Run:
        started = time.monotonic()
        self.page.click('.lm-MenuBar-itemLabel:text-is("Run")')
        self.page.click('.lm-Menu-itemLabel:text-is("Run All Cells")')
        # every code cell numbered, none pending ([*]): run all stops at the first error
        self.page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell'))
                .every(c => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt').textContent))
             || document.querySelector('.jp-NotebookPanel [data-mime-type$="stderr"]')""",
            timeout=_NOTEBOOK_SECONDS * 1000,
            polling=500,
        )
        self.wait_idle(_NOTEBOOK_SECONDS)
        seconds = time.monotonic() - started
        model = f"/api/contents/{self.name}.ipynb?content=0"
        saved = self.jupyter.api(model)["last_modified"]
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while self.jupyter.api(model)["last_modified"] == saved:
            assert time.monotonic() < deadline, f"{self.name}: Ctrl+S did not save"
            self.page.wait_for_timeout(250)
        images = self.page.evaluate(
            """() => Array.from(
                document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img'))
                .map(i => { i.scrollIntoView();
                            return [i.complete, i.naturalWidth, i.naturalHeight]; })"""
        )
        stderr = self.page.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.jp-NotebookPanel .jp-OutputArea-output[data-mime-type$="stderr"]'))
                .map(e => e.textContent.slice(0, 2000))"""
        )
        text = self.page.evaluate(  # textContent: cells scrolled out of view count too
            "() => document.querySelector('.jp-NotebookPanel .jp-Notebook').textContent"
        )
        notebook = nbformat.read(self.path, as_version=4)
        return _Run(notebook, images, stderr, text, seconds)

    def set_parameter(self, line: str) -> None:
        """Type ``line`` at the end of the parameters cell, in its editor."""
        notebook = nbformat.read(self.path, as_version=4)
        [index] = [
            i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
        ]
        editor = self.page.locator(".jp-NotebookPanel .jp-Cell").nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.press("Enter")
        self.page.keyboard.press("Home")  # no auto-indent
        self.page.keyboard.insert_text(line)
        self.page.keyboard.press("Escape")  # back to command mode

    def close(self) -> None:
        self.context.close()
        for session in self.jupyter.api("/api/sessions"):  # its kernel too
            if Path(session["path"]).stem == self.name:
                self.jupyter.api(f"/api/sessions/{session['id']}", method="DELETE")


def _check(run: _Run, name: str) -> None:
    code = [c for c in run.notebook.cells if c.cell_type == "code"]
    unrun = [i for i, c in enumerate(code, start=1) if c.execution_count is None]
    errors = [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in code
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == [], f"{name}: {errors}"
    assert run.stderr == [], f"{name} shows error output: {run.stderr}"
    assert unrun == [], f"{name}: code cells {unrun} did not run"
    data = [o.get("data", {}) for c in code for o in c.outputs]
    pngs = sum("image/png" in d for d in data)
    assert pngs > 0, f"{name} drew no figure"
    # JupyterLab shows an output's HTML before its PNG (rendermime's order): a figure is a
    # PNG-only output, or an <img> in the HTML shown
    expected = sum(
        "".join(d["text/html"]).count("<img") if "text/html" in d else "image/png" in d
        for d in data
    )
    shown = len(run.images)
    assert shown == expected, f"{name}: {expected} figures, {shown} shown"
    for complete, width, height in run.images:
        assert complete, name
        assert width > 0, name  # the PNG decoded and rendered
        assert height > 0, name
    assert run.records, f"{name} recorded no finding"


def test_run_all_then_change_the_data_folder(
    jupyter: _Lab, browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = tmp_path / "own exports"
    held = write_standin(own)
    names = sorted(p.stem for p in jupyter.notebooks.glob("*.ipynb"))
    assert set(SECOND_PASS) <= set(names)
    chosen = os.environ.get("TOOLKIT_LAB_NOTEBOOKS")  # e.g. "00_tour,02_trace_bottlenecks"
    if chosen:
        names = [n for n in names if n in chosen.split(",")]
        assert names, f"TOOLKIT_LAB_NOTEBOOKS={chosen!r} names no notebook"
    timings: dict[str, float] = {}
    for name in names:
        notebook = _Notebook(jupyter, browser, name)
        try:
            kernel = notebook.page.inner_text(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")
            assert kernel == lab.KERNEL_DISPLAY_NAME, name
            first = notebook.run_all()
            timings[name] = first.seconds
            with capsys.disabled():
                print(f"\n{name}: run all in {first.seconds:.0f} s", end="", flush=True)
            _check(first, name)
            if name not in SECOND_PASS:
                continue
            notebook.set_parameter(f"data_dir = {str(own)!r}")
            second = notebook.run_all()
            timings[f"{name} (again)"] = second.seconds
            with capsys.disabled():
                print(f"; again on other data in {second.seconds:.0f} s", end="", flush=True)
            _check(second, name)
            parameters = next(
                c for c in second.notebook.cells if "parameters" in c.metadata.get("tags", [])
            )
            assert parameters.source.rstrip().endswith(f"data_dir = {str(own)!r}")
            found, before = second.records, first.records
            if name == "00_tour":
                assert found["rows"]["spans"] == held["spans"] != before["rows"]["spans"]
                assert found["rows"]["llm_calls"] == held["llm_calls"]
                assert found["rows"]["logs"] == held["logs"]
                assert sum(found["files"].values()) == 5  # the stand-in's five exports
                [files] = [r for r in read_records(second.notebook) if r.name == "files"]
                assert files.headline is not None
                assert files.headline.startswith("5 file(s) found")
                assert files.headline in second.text  # shown on the page
            else:
                assert found["spans"] == held["spans"] != before["spans"]
                assert found["traces"] == held["llm_calls"]  # one trace per call
                assert found["errors.traces"] == held["errors"]
        finally:
            notebook.close()
        assert notebook.errors == [], f"{name}: {notebook.errors}"
    assert jupyter.blocked == [], f"the page asked outside 127.0.0.1: {jupyter.blocked}"
    with capsys.disabled():
        print(
            "\nJupyterLab run-all seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items())
        )
