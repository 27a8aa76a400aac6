"""The examples run (``--quick``) and their optimized models equal the originals."""

import importlib
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("name", ["unet_decoder", "dcgan_generator", "detection_neck"])
def test_example_optimizes_its_model(name, capsys):
    result = importlib.import_module(name).main(quick=True)
    assert result["max_difference"] < 1e-4 and result["speedup"] > 0
    assert "rewritten:" in capsys.readouterr().out


@pytest.mark.interop
def test_keras_port():
    pytest.importorskip("keras", reason="the interop extra (keras) is not installed")
    assert importlib.import_module("keras_port").main() < 1e-4
