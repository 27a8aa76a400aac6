"""The command line: ``tconv check`` (and ``python -m tconv``)."""

import subprocess
import sys

import tconv
from tconv.cli import main


def test_check_passes_and_prints_a_table(capsys):
    assert main(["check", "--cases", "5", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "native" in out and "pass" in out and "FAIL" not in out
    # the fused table: a passing row per algorithm and dtype
    fused = out[out.index("upsample_conv, conv_pool") :].splitlines()
    for name in set(tconv.fused.ALGORITHMS) - {"reference"}:
        for dtype in ("float32", "float64"):
            assert any(f" {name} " in line and f" {dtype} " in line and "pass" in line for line in fused), (name, dtype)


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "tconv", "--help"], capture_output=True, text=True, check=True)
    assert "check" in result.stdout
