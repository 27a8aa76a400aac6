"""The command line: ``tconv check`` (and ``python -m tconv``)."""

import subprocess
import sys

from tconv.cli import main


def test_check_passes_and_prints_a_table(capsys):
    assert main(["check", "--cases", "20", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "native" in out and "reference" in out and "pass" in out and "FAIL" not in out


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "tconv", "--help"], capture_output=True, text=True, check=True)
    assert "check" in result.stdout
