"""``genai-sre report -p NAME=VALUE --params FILE``: parsing, routing to notebooks, exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from toolkit.errors import ParameterError
from toolkit.report import cli_parameters, register_cli

# --------------------------------------------------------------------------- parsing


def test_values_are_python_literals_else_text() -> None:
    assert cli_parameters(
        [
            "ttft_slo_s=2.5",
            "pool=h100-pool",
            'slices=["a","b"]',
            "start=None",
            "n=12",
            "on=True",
            "when=2026-11-02T00:00:00Z",
            "quoted='x y'",
            "empty=",
            "expr=1 + 2 == 3",
            "eq=a=b",
            " spaced = 3 ",
        ]
    ) == {
        "ttft_slo_s": 2.5,
        "pool": "h100-pool",
        "slices": ["a", "b"],
        "start": None,
        "n": 12,
        "on": True,
        "when": "2026-11-02T00:00:00Z",
        "quoted": "x y",
        "empty": "",
        "expr": "1 + 2 == 3",  # not a literal: kept as text, as papermill does
        "eq": "a=b",  # split at the first '='
        "spaced": 3,
    }


def test_assignment_errors() -> None:
    for bad in ("threshold", "1x=2", "=3", "a-b=1"):
        with pytest.raises(ParameterError) as info:
            cli_parameters([bad])
        assert str(info.value) == (
            "The '-p' option of genai-sre report must be NAME=VALUE, NAME a Python identifier "
            f"(-p ttft_slo_s=2.5). Got {bad!r} instead."
        )
    with pytest.raises(ParameterError, match=r"must not set data_dir \(use --data DIR\)"):
        cli_parameters(["data_dir=/tmp"])


def test_params_file_and_precedence(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(
        "# overrides for our cluster\n"
        "pool: h100-pool\n"
        "ttft_slo_s: 2\n"
        "start: 2026-11-02T00:00:00Z\n"
        "slices: [a, b]\n"
        "objective: {target: 0.99}\n"
        "tz:\n"
    )
    assert cli_parameters(["ttft_slo_s=2.5"], path) == {
        "pool": "h100-pool",
        "ttft_slo_s": 2.5,  # -p wins over the file
        "start": "2026-11-02T00:00:00+00:00",  # YAML's timestamp back to ISO-8601 text
        "slices": ["a", "b"],
        "objective": {"target": 0.99},
        "tz": None,
    }
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert cli_parameters([], empty) == {}


def test_params_file_errors(tmp_path: Path) -> None:
    where = "The '--params' option of genai-sre report must be a YAML file of name: value lines"
    with pytest.raises(ParameterError) as info:
        cli_parameters([], tmp_path / "missing.yaml")
    assert str(info.value) == (
        f"{where}. Got {str(tmp_path / 'missing.yaml')!r}, which cannot be read "
        "(FileNotFoundError) instead."
    )
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ParameterError) as info:
        cli_parameters([], listed)
    assert str(info.value) == (
        f"{where}. Got {str(listed)!r}, holding ['a', 'b'], instead (a mapping of parameter "
        "names to values is expected)."
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("pool: h100\n  bad: [\n")
    with pytest.raises(ParameterError, match=r"broken.yaml' \(.* at line 2\) instead\.$"):
        cli_parameters([], broken)
    data_dir = tmp_path / "d.yaml"
    data_dir.write_text("data_dir: /elsewhere\n")
    with pytest.raises(ParameterError, match="must not set data_dir"):
        cli_parameters([], data_dir)


# --------------------------------------------------------------------------- the command


def _write(path: Path, parameters: str, *cells: str) -> None:
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    body = [new_markdown_cell(f"# {path.stem}"), params, *map(new_code_cell, cells)]
    nbformat.write(new_notebook(cells=body), path)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nbs")
    _write(
        folder / "01_slo.ipynb",
        "data_dir = None\ntz = None\nttft_slo_s = None  # from the data\npool = None\n"
        "slices = None",
        "from toolkit.report import record\nrecord('seen', {'tz': tz, 'ttft_slo_s': ttft_slo_s, "
        "'pool': pool, 'slices': slices})",
    )
    _write(
        folder / "02_gpu.ipynb",
        "data_dir = None\ntz = None",
        "from toolkit import Support\nfrom toolkit.report import record, section\n"
        "record('tz', tz)\n"
        "section('GPU', Support('gpu', 'GPU telemetry', 'no gpu table', ('gpu',), 'run dcgm'))",
    )
    return folder


def _run(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="genai-sre")
    register_cli(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["report", *args, "--quiet"])
    return int(parsed.handler(parsed))


def test_cli_parameters_reach_the_notebooks_that_declare_them(
    notebooks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("pool: from-file\nttft_slo_s: 9\n")
    out = tmp_path / "out"
    code = _run(
        [
            "--data",
            str(tmp_path),
            "--out",
            str(out),
            "--notebooks",
            str(notebooks),
            "-p",
            "tz=UTC",
            "-p",
            "ttft_slo_s=2.5",
            "-p",
            'slices=["a","b"]',
            "--params",
            str(params),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err  # "not applicable" is not a failure
    lines = captured.out.splitlines()
    assert lines[0].startswith("01_slo                       ok             ")
    assert lines[1].startswith("02_gpu                       not applicable ")
    assert lines[1].endswith("02_gpu.html  (1 of 1 sections skipped)")
    assert lines[2] == (
        f"2 notebook(s), all ran (1 ok, 1 not applicable); index: {out / 'index.html'}"
    )
    findings = json.loads((out / "findings.json").read_text())
    assert findings["01_slo"]["records"][0]["value"] == {
        "tz": "UTC",
        "ttft_slo_s": 2.5,
        "pool": "from-file",
        "slices": ["a", "b"],
    }
    assert findings["02_gpu"]["records"][0]["value"] == "UTC"  # tz goes to both
    assert findings["02_gpu"]["status"] == "not applicable"
    assert findings["02_gpu"]["skipped"][0]["how"] == "run dcgm"


def test_cli_unknown_parameter_lists_each_notebooks_parameters(
    notebooks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--data", str(tmp_path), "--out", str(tmp_path / "o"), "--notebooks", str(notebooks)]
    assert _run([*common, "-p", "ttft_slo=2"]) == 2
    assert capsys.readouterr().err == (
        "genai-sre report: error: The 'parameters' parameter of report.run_report must name "
        "parameters that the selected notebooks declare in their parameters cell (01_slo: "
        "data_dir, tz, ttft_slo_s, pool, slices; 02_gpu: data_dir, tz). Got 'ttft_slo' "
        "instead; did you mean 'ttft_slo_s' for 'ttft_slo'?\n"
    )
    # declared by a notebook that is not selected: refused too
    assert _run([*common, "--only", "02", "-p", "pool=x"]) == 2
    assert "(02_gpu: data_dir, tz). Got 'pool' instead." in capsys.readouterr().err
    assert _run([*common, "-p", "pool"]) == 2
    assert "'-p' option of genai-sre report must be NAME=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing ran


def test_no_assignment_crashes_or_echoes_unbounded_input() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from toolkit.report._runner import _literal

    names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
    assignments = st.tuples(names, st.text(max_size=2000)).map("=".join)

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=3000), assignments))
    def check(item: str) -> None:
        try:
            values = cli_parameters([item])
        except ParameterError as exc:
            message = str(exc)
            assert message.startswith("The '-p' option of genai-sre report must be")
            assert len(message) < 300
        else:
            ((name, value),) = values.items()
            assert name.isidentifier()
            assert name != "data_dir"
            assert _literal(name, value).startswith(f"{name} = ")  # injectable as it is

    check()
