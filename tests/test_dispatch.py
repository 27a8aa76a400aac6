"""The dispatcher: heuristic choice, forcing by name, reasons, explain, and autotuning."""

import dataclasses
import json
import threading
import warnings

import pytest
import torch

import tconv
from tconv import algorithms
from tconv.core import autotune
from tconv.transposed import preference as heuristics
from tconv.transposed.plan import plan_conv_transpose

PLAN = plan_conv_transpose((1, 2, 5, 5), (2, 3, 3, 3), stride=2, padding="same")
DEPTHWISE = plan_conv_transpose((1, 4, 5, 5), (4, 1, 2, 2), stride=2, groups=4)


@pytest.mark.parametrize("plan", [PLAN, DEPTHWISE])
def test_auto_takes_the_first_capable_algorithm_in_the_order_of_preference(plan):
    capable = [
        name
        for name in heuristics.preference(plan)
        if not algorithms.ALGORITHMS[name].why_not(plan) and algorithms.ALGORITHMS[name].auto
    ]
    assert algorithms.select(plan).name == capable[0] != "reference"


def test_every_algorithm_is_declared_and_ordered():
    for name, algorithm in algorithms.ALGORITHMS.items():
        assert algorithm.name == name and algorithm.description
        assert name == "reference" or name in heuristics.preference(PLAN) + heuristics.preference(DEPTHWISE)
    assert not algorithms.ALGORITHMS["reference"].auto


def test_forcing_an_incapable_algorithm_lists_its_reasons():
    with pytest.raises(
        tconv.NoAlgorithmError,
        match=r"algorithm: 'nonoverlap' cannot run this problem: kernel blocks overlap on spatial axis 0",
    ):
        algorithms.select(PLAN, "nonoverlap")
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3)
    with pytest.raises(ValueError, match="'nonoverlap' cannot run"):
        tconv.conv_transpose2d(x, w, stride=2, algorithm="nonoverlap")


def test_no_capable_algorithm_lists_every_algorithm():
    plan = dataclasses.replace(PLAN, device_type="xla")
    with pytest.raises(
        ValueError,
        match=r"no algorithm can run this problem \(native: device type 'xla'.*; reference: device type 'xla'",
    ):
        algorithms.select(plan)


def test_explain_names_the_choice_and_every_reason():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3)
    choice = tconv.explain(x, w, stride=2, padding="same")
    assert choice.how == "heuristic" and choice.algorithm is algorithms.select(PLAN)
    text = str(choice)
    assert f"algorithm {choice.algorithm.name!r} (heuristic)" in text
    assert "nonoverlap: cannot run it: kernel blocks overlap" in text
    assert "reference: could run it, but runs only when forced" in text
    assert tconv.explain(x, w, stride=2, algorithm="subpixel").how == "forced"


def test_autotune_times_once_then_uses_the_cache(autotuning):
    x, w = torch.randn(2, 4, 6, 6), torch.randn(4, 1, 2, 2)
    first = tconv.explain(x, w, stride=2, groups=4)
    capable = {name for name, why in first.reasons.items() if not why and algorithms.ALGORITHMS[name].auto}
    assert first.how == "autotuned" and set(first.times) == capable and {"native", "nonoverlap"} <= capable
    assert first.algorithm.name == min(first.times, key=first.times.get)
    assert tconv.explain(x, w, stride=2, groups=4).how == "autotune cache"
    files = list(autotuning.glob("autotune-*.json"))
    assert len(files) == 1 and not list(autotuning.glob("*.tmp"))
    data = json.loads(files[0].read_text())
    assert data["format"] == autotune.FORMAT and data["torch"] == torch.__version__
    assert list(data["winners"].values()) == [first.algorithm.name]
    autotune.clear_memory()  # a new process: the winner comes back from disk
    assert tconv.explain(x, w, stride=2, groups=4).how == "autotune cache"
    torch.testing.assert_close(
        tconv.conv_transpose2d(x, w, stride=2, groups=4),
        tconv.conv_transpose2d(x, w, stride=2, groups=4, algorithm="reference"),
    )


def test_corrupt_and_foreign_cache_files_are_ignored_with_a_warning(autotuning):
    x, w = torch.randn(1, 2, 4, 4), torch.randn(2, 2, 2, 2)
    tconv.conv_transpose2d(x, w, stride=2)
    (path,) = autotuning.glob("autotune-*.json")
    for content in (
        "{not json",
        json.dumps({"format": 1, "device": "another", "torch": torch.__version__, "winners": {}}),
    ):
        path.write_text(content)
        autotune.clear_memory()
        with pytest.warns(RuntimeWarning, match="ignoring the"):
            assert tconv.explain(x, w, stride=2).how == "autotuned"
    json.loads(path.read_text())  # rewritten whole


def test_autotune_is_thread_safe(autotuning):
    shapes = [(1, 4, 5 + i % 3, 5) for i in range(8)]
    w = torch.randn(4, 2, 2, 2)
    errors = []

    def work(shape):
        try:
            x = torch.randn(shape)
            torch.testing.assert_close(
                tconv.conv_transpose2d(x, w, stride=2), tconv.conv_transpose2d(x, w, stride=2, algorithm="reference")
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(shape,)) for shape in shapes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    (path,) = autotuning.glob("autotune-*.json")
    assert len(json.loads(path.read_text())["winners"]) == 3


def test_off_switch_and_environment(autotuning, monkeypatch):
    x, w = torch.randn(1, 2, 4, 4), torch.randn(2, 2, 3, 3)
    tconv.set_autotune(False)
    assert tconv.explain(x, w, stride=2).how == "heuristic"
    autotune._enabled = None
    monkeypatch.setenv("TCONV_AUTOTUNE", "1")
    assert tconv.explain(x, w, stride=2).how == "autotuned"
    monkeypatch.setenv("TCONV_AUTOTUNE", "0")
    assert tconv.explain(x, w, stride=2).how == "heuristic"
    with pytest.raises(TypeError, match="enabled: expected True or False"):
        tconv.set_autotune("yes")


def test_autotune_is_skipped_under_torch_compile(autotuning):
    x, w = torch.randn(1, 2, 4, 4), torch.randn(2, 2, 2, 2)
    compiled = torch.compile(lambda a, b: tconv.conv_transpose2d(a, b, stride=2), fullgraph=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.testing.assert_close(compiled(x, w), tconv.conv_transpose2d(x, w, stride=2, algorithm="reference"))
