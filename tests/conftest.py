import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow's own kernels define the conformance tests: its oneDNN build (on by default on Intel
# CPUs) accepts output sizes TF refuses elsewhere and fails with other errors
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

import tconv  # noqa: E402
from tconv.core import autotune  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _no_compiling():
    """``auto`` would compile a kernel for every random custom convolution (seconds each); tests
    that want the ``compiled`` algorithm force it or use the ``compiling`` fixture."""
    tconv.set_compile(False)
    yield
    tconv.set_compile(True)


@pytest.fixture
def compiling():
    """``auto`` may pick the ``compiled`` custom-convolution kernels within this test."""
    tconv.set_compile(True)
    yield
    tconv.set_compile(False)


@pytest.fixture
def autotuning(tmp_path, monkeypatch):
    """Autotuning on, with a cache directory of its own; everything reset afterwards."""
    monkeypatch.setenv("TCONV_CACHE_DIR", str(tmp_path))
    autotune.clear_memory()
    tconv.set_autotune(True)
    yield tmp_path
    autotune._enabled = None
    autotune.clear_memory()
