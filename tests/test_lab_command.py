"""genai-sre lab and genai-sre notebooks copy (toolkit.lab): the command, the kernel, the
working copy and the notebooks' default data_dir.

The browser test of the same is tests/notebooks/test_lab.py (named apart: pytest and mypy
need distinct module names).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from toolkit import lab
from toolkit.cli import main
from toolkit.errors import ParameterError, ToolkitError

REPO = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genai-sre")
    lab.register_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def test_lab_command_keeps_auth_and_binds_to_localhost(tmp_path: Path) -> None:
    args = _parser().parse_args(["lab", "--notebooks", str(tmp_path), "--", "--no-browser"])
    assert (args.notebooks, args.jupyter_args, args.data, args.port) == (
        str(tmp_path),
        ["--no-browser"],
        None,
        None,
    )
    command = lab.lab_command(tmp_path, ["--no-browser"])
    assert command[0] == sys.executable
    assert command[1:] == [
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.ip=127.0.0.1",  # never beyond this machine unless asked
        "--MappingKernelManager.default_kernel_name=genai-sre",
        "--KernelManager.transport=ipc",
        "--no-browser",
    ]
    assert not any("token" in part.lower() for part in command)
    for spelling in (
        ["--ServerApp.token="],
        ["--IdentityProvider.token=''"],
        ["--IdentityProvider.token", ""],  # the space-separated form
        ["--IdentityProvider.token", "''"],
        ["--NotebookApp.token", '""', "--no-browser"],
        ["--ServerApp.password="],
        ["--ServerApp.disable_check_xsrf=True"],
        ["--ServerApp.disable_check_xsrf"],
        ["--ServerApp.allow_unauthenticated_access", "true"],
        ["--ServerApp.allow_origin=*"],
    ):
        with pytest.raises(ParameterError, match="must leave token authentication on"):
            lab.lab_command(tmp_path, spelling)
    assert "--ServerApp.token=s3cret" in lab.lab_command(tmp_path, ["--ServerApp.token=s3cret"])
    asked = lab.lab_command(tmp_path, ["--ip", "0.0.0.0"])
    assert "--ServerApp.ip=127.0.0.1" not in asked
    assert asked[-2:] == ["--ip", "0.0.0.0"]
    on_port = lab.lab_command(tmp_path, port=8899)
    assert on_port[-2:] == ["--ServerApp.port=8899", "--ServerApp.port_retries=0"]
    for port in (0, 70000, True, "8888"):
        with pytest.raises(ParameterError, match=r"'port' parameter of lab\.lab_command"):
            lab.lab_command(tmp_path, port=port)  # type: ignore[arg-type]


def test_lab_environment_sets_data_dir(tmp_path: Path) -> None:
    env = lab.lab_environment(tmp_path, base={"PATH": "/usr/bin"})
    assert env["GENAI_SRE_DATA_DIR"] == str(tmp_path.resolve())
    assert env["PATH"] == f"{Path(sys.executable).parent}{os.pathsep}/usr/bin"
    assert "GENAI_SRE_DATA_DIR" not in lab.lab_environment(None, base={"PATH": "/usr/bin"})
    with pytest.raises(ParameterError, match="must be an existing folder"):
        lab.lab_environment(tmp_path / "missing", base={})


def test_default_data_dir_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_SRE_DATA_DIR", "/srv/exports")
    assert lab.default_data_dir() == "/srv/exports"
    monkeypatch.setenv("GENAI_SRE_DATA_DIR", "  ")
    assert lab.default_data_dir() == str(REPO / "data" / "sample")
    monkeypatch.delenv("GENAI_SRE_DATA_DIR")
    assert lab.default_data_dir() == str(REPO / "data" / "sample")


def test_every_curated_notebook_defaults_to_the_session_data_dir() -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "genai-sre", path.name
        assert "genai-sre" in nb.metadata["kernelspec"]["display_name"]
        [index] = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        namespace: dict[str, object] = {}
        exec(compile(nb.cells[index].source, path.name, "exec"), namespace)
        assert namespace["data_dir"] is None, path.name  # a plain literal the runner replaces
        # the first code cell after it resolves data_dir, before anything reads it
        first = next(c for c in nb.cells[index + 1 :] if c.cell_type == "code").source
        assert "data_dir = default_data_dir(data_dir)" in first, path.name
        assert first.index("default_data_dir(data_dir)") < first.index("data_dir,"), path.name
        os.environ["GENAI_SRE_DATA_DIR"] = "/srv/mine"
        try:
            assert lab.default_data_dir(namespace["data_dir"]) == "/srv/mine", path.name
            assert lab.default_data_dir("/given") == "/given"  # the runner's value wins
        finally:
            del os.environ["GENAI_SRE_DATA_DIR"]


def test_install_kernel_writes_a_spec_of_this_interpreter(tmp_path: Path) -> None:
    spec = lab.install_kernel(tmp_path)
    assert spec == tmp_path / "share" / "jupyter" / "kernels" / "genai-sre"
    kernel = json.loads((spec / "kernel.json").read_text("utf-8"))
    assert kernel["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert kernel["display_name"] == "Python (genai-sre toolkit)"
    assert (spec / "logo-64x64.png").is_file()
    stamp = (spec / "kernel.json").stat().st_mtime_ns
    assert lab.install_kernel(tmp_path) == spec
    assert (spec / "kernel.json").stat().st_mtime_ns == stamp  # left alone when current
    (spec / "kernel.json").write_text(json.dumps({**kernel, "argv": ["/old/python"]}), "utf-8")
    lab.install_kernel(tmp_path)
    assert json.loads((spec / "kernel.json").read_text("utf-8")) == kernel
    # jupyter_client finds it where JupyterLab looks (JUPYTER_PATH = the prefix's share)
    found = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        env={**os.environ, "JUPYTER_PATH": str(tmp_path / "share" / "jupyter")},
        capture_output=True,
        text=True,
        check=True,
    )
    specs = json.loads(found.stdout)["kernelspecs"]
    assert specs["genai-sre"]["resource_dir"] == str(spec)


def test_copy_notebooks_keeps_edits(tmp_path: Path) -> None:
    shipped = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    first = lab.copy_notebooks(tmp_path / "mine")
    assert [p.name for p in first.copied] == shipped
    assert (first.unchanged, first.kept) == ((), ())
    edited = tmp_path / "mine" / shipped[0]
    edited.write_text(edited.read_text("utf-8").replace("data_dir", "data_dir "), "utf-8")
    (tmp_path / "mine" / shipped[1]).unlink()
    again = lab.copy_notebooks(tmp_path / "mine")
    assert [p.name for p in again.copied] == [shipped[1]]
    assert again.kept == (edited,)
    assert len(again.unchanged) == len(shipped) - 2
    forced = lab.copy_notebooks(tmp_path / "mine", overwrite=True)
    assert forced.copied == (edited,)
    assert edited.read_bytes() == (REPO / "notebooks" / shipped[0]).read_bytes()
    with pytest.raises(ParameterError, match="must not be the curated notebooks' own folder"):
        lab.copy_notebooks(REPO / "notebooks")
    (tmp_path / "file").write_text("x", "utf-8")
    with pytest.raises(ParameterError, match=r"must be a folder\. Got"):
        lab.copy_notebooks(tmp_path / "file")
    with pytest.raises(ParameterError, match=r"must be a folder of \.ipynb notebooks"):
        lab.copy_notebooks(tmp_path / "x", source=tmp_path / "mine" / "none")


def test_shipped_notebooks_of_a_wheel_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wheel puts them under sys.prefix/share/genai-sre-toolkit/notebooks (pyproject's
    # data-files); the checkout's notebooks/ come first when they are there
    monkeypatch.setattr(lab, "_CHECKOUT", tmp_path / "site-packages")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    with pytest.raises(ToolkitError, match="curated notebooks were not found"):
        lab.shipped_notebooks_dir()
    installed = tmp_path / "venv" / "share" / "genai-sre-toolkit" / "notebooks"
    installed.mkdir(parents=True)
    (installed / "00_tour.ipynb").write_text("{}", "utf-8")
    assert lab.shipped_notebooks_dir() == installed
    assert "data-files" in (REPO / "pyproject.toml").read_text("utf-8")


def test_cli_notebooks_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = len(list((REPO / "notebooks").glob("*.ipynb")))
    assert main(["notebooks", "copy", str(tmp_path / "copy")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        f"{shipped} copied, 0 already up to date, 0 kept, in {tmp_path / 'copy'}"
    )
    assert main(["notebooks", "copy", str(tmp_path / "copy")]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith(f"0 copied, {shipped} already up to date, 0 kept")
    )
    (tmp_path / "f").write_text("x", "utf-8")
    assert main(["notebooks", "copy", str(tmp_path / "f")]) == 2
    assert "The 'dest' parameter of lab.copy_notebooks must be a folder" in capsys.readouterr().err


def test_cli_lab_runs_jupyterlab_on_a_working_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[tuple[list[str], dict[str, str]]] = []

    def call(command: list[str], env: dict[str, str]) -> int:
        ran.append((command, env))
        return 0

    monkeypatch.setattr(subprocess, "call", call)
    monkeypatch.setattr(lab, "install_kernel", lambda: tmp_path / "kernel")
    data = tmp_path / "exports"
    data.mkdir()
    argv = ["lab", "--data", str(data), "--workdir", str(tmp_path / "work"), "--port", "8890"]
    assert main([*argv, "--", "--no-browser"]) == 0
    [(command, env)] = ran
    assert f"--ServerApp.root_dir={tmp_path / 'work'}" in command
    assert command[-3:] == ["--ServerApp.port=8890", "--ServerApp.port_retries=0", "--no-browser"]
    assert env["GENAI_SRE_DATA_DIR"] == str(data)
    assert (tmp_path / "work" / "00_tour.ipynb").is_file()
    out = capsys.readouterr().out
    assert f"kernel   Python (genai-sre toolkit) ({tmp_path / 'kernel'})" in out
    assert f"data_dir {data}" in out
    assert main(["lab", "--data", str(tmp_path / "nowhere")]) == 2
    assert "(genai-sre lab --data) must be an existing folder" in capsys.readouterr().err
