"""``tconv bench`` end to end through the command line, on tiny shapes (no timing assertions).

``--tiny`` (hidden) shrinks every shape and times each callable for about a millisecond; see
:mod:`tconv.bench`.
"""

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass

import pytest
import torch

from tconv import algorithms, bench, custom, fused
from tconv.cli import main

UPSAMPLE_METHODS = ["nearest", "conv3x3_dw", "torch_deconv_dw", "bilinear", "tconv", "copy"]
UPSAMPLE_CASES = [row.name for row in bench.SUITES["upsample"].rows if "cpu" in row.devices]
CONVT_QUICK_CASES = [row.name for row in bench.SUITES["convt"].rows if row.quick]


def run(capsys, *args):
    code = main(["bench", "--tiny", "--quick", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *args, code=0):
    returned, out, _ = run(capsys, "--format", "json", *args)
    assert returned == code
    return json.loads(out)


def by_case(results):
    cases = {}
    for record in results:
        cases.setdefault((record["suite"], record["case"]), {})[record["method"]] = record
    return cases


def test_table_has_every_suite_row_and_column(capsys):
    code, out, _ = run(capsys)
    assert code == 0
    assert out.index("upsample:") < out.index("convt:")  # registry order
    for column in (*UPSAMPLE_METHODS, "torch", "speedup", "× copy", "algorithm"):
        assert column in out
    for case in UPSAMPLE_CASES + CONVT_QUICK_CASES:
        assert case in out
    assert "error" not in out and "n/a" not in out


def test_csv_parses_back_one_record_per_case_and_method(capsys):
    code, out, err = run(capsys, "--suite", "upsample", "--format", "csv")
    assert code == 0
    assert "upsample" not in err  # the progress bar is transient and never on stdout
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames) == bench.RECORD_FIELDS
    rows = list(reader)
    assert [(r["case"], r["method"]) for r in rows] == [(c, m) for c in UPSAMPLE_CASES for m in UPSAMPLE_METHODS]
    for r in rows:
        assert r["suite"] == "upsample" and r["error"] == "" and float(r["ms"]) > 0
        assert r["device"] == "cpu" and r["dtype"] == "float32" and r["pass"] == "forward"
        assert r["algorithm"] if r["method"] == "tconv" else not r["algorithm"]
        if r["method"] == "torch_deconv_dw":
            assert float(r["speedup"]) == 1.0
        if r["method"] == "copy":
            assert float(r["x_copy"]) == 1.0


def test_json_parses_back_with_config_and_ratios(capsys, tmp_path):
    path = tmp_path / "bench.json"
    code, out, _ = run(capsys, "--suite", "convt", "--format", "json", "--output", str(path))
    assert code == 0 and out == ""
    data = json.loads(path.read_text())
    assert data["config"]["device"] == "cpu" and data["config"]["tiny"] is True
    cases = by_case(data["results"])
    assert list(cases) == [("convt", name) for name in CONVT_QUICK_CASES]
    for methods in cases.values():
        assert list(methods) == ["torch", "tconv"]
        torch_ms, tconv_ms = methods["torch"]["ms"], methods["tconv"]["ms"]
        assert methods["tconv"]["speedup"] == pytest.approx(torch_ms / tconv_ms)
        assert methods["tconv"]["algorithm"] in algorithms.ALGORITHMS
        assert methods["tconv"]["x_copy"] is None


def test_table_to_a_file(capsys, tmp_path):
    path = tmp_path / "bench.txt"
    code, out, err = run(capsys, "--suite", "convt", "--output", str(path))
    assert code == 0 and out == "" and str(path) in err
    assert "convt: transposed convolutions" in path.read_text() and "\x1b[" not in path.read_text()


def markdown_cells(line):
    """The cells of a markdown table line (``\\|`` is a ``|`` inside a cell)."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_markdown_has_a_table_per_suite(capsys):
    """``--format markdown``: the header line, then per suite that ran its title line and a GitHub
    table with the rich table's columns and a row per case."""
    code, out, _ = run(capsys, "--format", "markdown")
    assert code == 0 and "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0].startswith("tconv bench: forward, cpu, float32, ") and "1 threads" in lines[0]
    assert f"torch {torch.__version__}" in lines[0]
    titles = [i for i, line in enumerate(lines) if line.startswith("**")]
    assert [lines[i] for i in titles] == [f"**{name}: {suite.title} (ms)**" for name, suite in bench.SUITES.items()]
    settings = bench.Settings(quick=True, tiny=True)
    for i, suite in zip(titles, bench.SUITES.values()):
        assert lines[i + 1] == ""
        header = markdown_cells(lines[i + 2])
        assert header[:2] == ["case", "algorithm"] and suite.baseline in header and suite.contender in header
        assert "speedup" in header and ("peak MiB " + suite.contender in header) == suite.memory
        assert set(markdown_cells(lines[i + 3])) <= {"---", "---:"} and len(markdown_cells(lines[i + 3])) == len(header)
        rows = [markdown_cells(line) for line in itertools.takewhile(lambda line: line != "", lines[i + 4 :])]
        assert [cells[0] for cells in rows] == [row.name for row in suite.rows_for(settings)]
        for cells in rows:
            assert len(cells) == len(header) and cells[header.index("speedup")].endswith("x"), cells
            assert float(cells[header.index(suite.contender)]) > 0


@pytest.mark.parametrize(
    "options, config",
    [
        (["--backward"], {"pass": "forward+backward"}),
        (["--channels-last"], {"channels_last": True}),
        (["--dtype", "bfloat16"], {"dtype": "bfloat16", "amp": None}),
        (["--amp"], {"dtype": "float32", "amp": "bfloat16"}),
        (
            ["--amp", "--backward", "--channels-last", "--dtype", "float16"],
            {"amp": "float16", "pass": "forward+backward"},
        ),
    ],
)
def test_options_run_every_column(capsys, options, config):
    data = run_json(capsys, *options)
    for key, value in config.items():
        assert data["config"][key] == value
    assert {r["suite"] for r in data["results"]} == set(bench.SUITES)
    for record in data["results"]:
        assert record["error"] == "" and record["ms"] > 0, record


def test_plot_writes_a_png(capsys, tmp_path):
    # matplotlib is in the test extra: missing, it is a failure, not a skip
    path = tmp_path / "bench.png"
    code, _, err = run(capsys, "--plot", str(path))
    assert code == 0 and str(path) in err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_suite_selection(capsys):
    assert {r["suite"] for r in run_json(capsys, "--suite", "convt")["results"]} == {"convt"}
    results = run_json(capsys, "--suite", "convt", "--suite", "upsample")["results"]
    assert [r["suite"] for r in results][0] == "convt" and {r["suite"] for r in results} == {"convt", "upsample"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["bench", "--device", "cuda"])
    assert exit.value.code == 2
    assert "--device cuda: CUDA is not available" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, message",
    [
        (["--algorithm", "nope"], "--algorithm: unknown algorithm 'nope'; legal values are 'auto'"),
        (["--amp", "--dtype", "float64"], "--amp: autocast needs --dtype float16 or bfloat16"),
        (["--suite", "nope"], "invalid choice: 'nope'"),
        (["--min-run-time", "0"], "--min-run-time: expected a positive number"),
    ],
)
def test_bad_options_name_the_option(capsys, options, message):
    with pytest.raises(SystemExit) as exit:
        main(["bench", *options])
    assert exit.value.code == 2 and message in capsys.readouterr().err


@dataclass(frozen=True)
class FakeRow:
    """A row of a suite added to the registry: one column that runs, one that cannot, one that fails."""

    name: str = "fake row"
    quick: bool = True
    devices: tuple = ("cpu",)

    def build(self, settings):
        x = settings.tensor(settings.shape(2, 64, 8), torch.Generator().manual_seed(0))

        def broken():
            raise RuntimeError("boom")

        methods = {"base": lambda: x * 2, "tconv": "n/a: cannot", "broken": broken}
        return bench.RowRun(str(list(x.shape)), (x,), methods)


def test_a_suite_is_a_registry_entry(capsys, monkeypatch):
    monkeypatch.setitem(
        bench.SUITES, "fake", bench.Suite("fake", "a suite added in a test", (FakeRow(),), baseline="base")
    )
    code, out, _ = run(capsys, "--suite", "fake", "--backward")
    assert code == 1  # a column failed (a column that cannot run is not a failure)
    assert "fake row" in out and "n/a" in out and "boom" in out
    records = run_json(capsys, "--suite", "fake", code=1)["results"]
    assert [(r["method"], r["ms"] is not None, r["error"]) for r in records] == [
        ("base", True, ""),
        ("tconv", False, "n/a: cannot"),
        ("broken", False, "RuntimeError: boom"),
    ]


RESAMPLE_ROWS = bench.SUITES["resample"].rows


def test_resample_every_row_with_peak_memory(capsys):
    """Every row (not only --quick's), tiny: naive, the nearest rows' deconvolution and tconv all
    run; peak memory is measured for naive and tconv only."""
    assert main(["bench", "--tiny", "--suite", "resample", "--format", "json"]) == 0
    cases = by_case(json.loads(capsys.readouterr().out)["results"])
    assert list(cases) == [("resample", row.name) for row in RESAMPLE_ROWS]
    for row, methods in zip(RESAMPLE_ROWS, cases.values()):
        assert list(methods) == (["naive", "torch_deconv", "tconv"] if row.mode == "nearest" else ["naive", "tconv"])
        shape = json.loads(methods["naive"]["shape"])
        assert shape[0] <= 2 and len(shape) == len(row.input)  # --tiny shrinks
        for method, record in methods.items():
            assert record["error"] == "" and record["ms"] > 0, record
            assert (record["peak_mib"] > 0) if method != "torch_deconv" else record["peak_mib"] is None
        assert methods["tconv"]["algorithm"] in fused.ALGORITHMS


CUSTOM_ROWS = bench.SUITES["custom"].rows


def test_custom_every_row_with_peak_memory(capsys):
    """Every row, tiny: the unfold recipe, F.conv2d for mul/sum, and tconv (compiling is off in
    the tests: ``chunked`` or ``conv``) all run; peak memory for recipe and tconv."""
    assert main(["bench", "--tiny", "--suite", "custom", "--format", "json"]) == 0
    cases = by_case(json.loads(capsys.readouterr().out)["results"])
    assert list(cases) == [("custom", row.name) for row in CUSTOM_ROWS]
    for row, methods in zip(CUSTOM_ROWS, cases.values()):
        linear = (row.combine, row.reduce) == ("mul", "sum")
        assert list(methods) == (["recipe", "torch_conv", "tconv"] if linear else ["recipe", "tconv"])
        for method, record in methods.items():
            assert record["error"] == "" and record["ms"] > 0, record
            assert (record["peak_mib"] > 0) if method != "torch_conv" else record["peak_mib"] is None
        assert methods["tconv"]["algorithm"] == ("conv" if linear else "chunked")


def test_custom_rows_compute_what_the_recipe_computes():
    """The ``recipe`` column and tconv's agree, so the speedup compares equal work."""
    settings = bench.Settings(tiny=True)
    for row in CUSTOM_ROWS:
        methods = row.build(settings).methods
        expected = methods["recipe"]()
        for name in ("tconv", "torch_conv"):
            if name in methods:
                torch.testing.assert_close(
                    methods[name](), expected, rtol=1e-4, atol=1e-4, msg=lambda m: f"{row.name}, {name}: {m}"
                )


@pytest.mark.parametrize("algorithm", ["conv", "chunked"])
def test_custom_algorithm_forced(capsys, algorithm):
    """A forced custom algorithm runs where it can and reports n/a where it cannot."""
    cases = by_case(run_json(capsys, "--suite", "custom", "--algorithm", algorithm)["results"])
    for (_, name), methods in cases.items():
        record = methods["tconv"]
        if algorithm == "conv" and "torch_conv" not in methods:  # not a linear row
            assert record["error"].startswith("n/a: algorithm: 'conv' cannot run this problem"), record
        else:
            assert record["algorithm"] == algorithm and record["error"] == "", record


def test_peak_memory_columns_only_for_a_memory_suite(capsys):
    code, out, _ = run(capsys, "--suite", "convt", "--suite", "resample")
    assert code == 0 and "error" not in out and "n/a" not in out
    assert "peak MiB naive" in out and "peak MiB tconv" in out
    assert "peak MiB" not in out[: out.index("resample:")]  # not in the convt table
    code, out, _ = run(capsys, "--suite", "convt", "--suite", "resample", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["suite"] for r in rows if r["peak_mib"]} == {"resample"}
    assert all(float(r["peak_mib"]) > 0 for r in rows if r["suite"] == "resample" and r["method"] in ("naive", "tconv"))


@pytest.mark.parametrize("algorithm", ["composed", "naive", "reference", "native"])
def test_algorithm_names_either_family(capsys, algorithm):
    """A fused algorithm is forced on the resample suite and leaves the transposed convolutions on
    auto; a transposed-convolution algorithm the other way round; ``reference`` is in both."""
    data = run_json(capsys, "--suite", "convt", "--suite", "resample", "--algorithm", algorithm)
    assert data["config"]["algorithm"] == algorithm
    for record in data["results"]:
        assert record["error"] == "", record
        if record["method"] == "tconv":
            family = algorithms.ALGORITHMS if record["suite"] == "convt" else fused.ALGORITHMS
            assert (record["algorithm"] == algorithm) == (algorithm in family), record


@pytest.mark.parametrize(
    "fn, mib",
    [
        (lambda: torch.empty(2**20), 4),  # float32: 4 MiB, its result
        (lambda: [torch.empty(2**20) for _ in range(3)], 12),  # all alive at once
        (lambda: sum(torch.ones(2**20).sum() for _ in range(3)), 4),  # one temporary at a time, none kept
    ],
)
def test_peak_memory_of_known_allocations(fn, mib):
    assert bench._peak_mib(bench.Settings(), fn) == pytest.approx(mib, abs=0.01)


def test_bad_algorithm_lists_both_families(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["bench", "--algorithm", "nope"])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and all(
        repr(name) in err for name in (*algorithms.ALGORITHMS, *fused.ALGORITHMS, *custom.ALGORITHMS)
    )
