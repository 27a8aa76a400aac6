"""The three families built alike: one ``explain`` for every op, one dispatcher with autotuning
for every family, one testing vocabulary, and the transposed family's ``run_spread`` interface."""

import json

import pytest
import torch

import tconv
from tconv import custom, fused, transposed
from tconv.core import autotune
from tconv.core.algorithm import Algorithm
from tconv.core.dispatch import Dispatcher
from tconv.core.testing import FamilyTests
from tconv.custom.testing import TESTS as CUSTOM_TESTS
from tconv.fused.testing import TESTS as FUSED_TESTS
from tconv.transposed.functional import plan_for
from tconv.transposed.testing import TESTS as TRANSPOSED_TESTS
from tconv.transposed.testing import random_cases

FAMILIES = {"transposed": transposed, "fused": fused, "custom": custom}


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_has_the_same_rooms(name):
    package = FAMILIES[name]
    assert isinstance(package.DISPATCHER, Dispatcher) and package.DISPATCHER.family == name
    assert package.ALGORITHMS is package.DISPATCHER.algorithms
    for algorithm in package.ALGORITHMS.values():
        assert isinstance(algorithm, Algorithm) and algorithm.description
    assert not package.ALGORITHMS["reference"].auto
    for room in ("functional", "plan", "preference", "reference", "testing", "algorithms"):
        assert __import__(f"tconv.{name}.{room}", fromlist=["_"])
    assert isinstance(__import__(f"tconv.{name}.testing", fromlist=["_"]).TESTS, FamilyTests)


X, W_T, W_C = torch.randn(2, 4, 6, 6), torch.randn(4, 3, 3, 3), torch.randn(3, 4, 3, 3)

T_ARGS, UP_ARGS = dict(stride=2, padding="same"), dict(scale_factor=2, padding=1)
POOL_ARGS, CUSTOM_ARGS = dict(padding=1, pool_size=2), dict(padding=1, combine="abs_diff")
CALLS = [  # the op, its tensors and arguments, and the old way to explain it
    (tconv.conv_transpose2d, (X, W_T), T_ARGS, lambda: tconv.explain(X, W_T, **T_ARGS)),
    (tconv.upsample_conv2d, (X, W_C), UP_ARGS, lambda: tconv.explain_fused("upsample_conv", X, W_C, **UP_ARGS)),
    (tconv.conv_pool2d, (X, W_C), POOL_ARGS, lambda: tconv.explain_fused("conv_pool", X, W_C, **POOL_ARGS)),
    (tconv.custom_conv2d, (X, W_C), CUSTOM_ARGS, lambda: tconv.explain_custom(X, W_C, **CUSTOM_ARGS)),
]


@pytest.mark.parametrize("function, args, kwargs, old", CALLS, ids=[call[0].__name__ for call in CALLS])
def test_explain_takes_any_op_with_its_arguments(function, args, kwargs, old):
    choice = tconv.explain(function, *args, **kwargs)
    assert choice == old()
    assert choice.how == "heuristic" and str(choice).startswith(f"algorithm {choice.algorithm.name!r}")
    # the arguments as the function takes them, positionally too
    forced = tconv.explain(function, *args, None, **kwargs, algorithm="reference")
    assert forced.algorithm.name == "reference" and forced.how == "forced"


def test_explain_of_a_1d_and_3d_op():
    x1, w1 = torch.randn(1, 2, 7), torch.randn(3, 2, 3)
    assert tconv.explain(tconv.custom_conv1d, x1, w1, combine="sub").algorithm.name in tconv.custom.ALGORITHMS
    x3, w3 = torch.randn(1, 2, 3, 3, 3), torch.randn(2, 3, 2, 2, 2)
    assert tconv.explain(tconv.conv_transpose3d, x3, w3, stride=2).algorithm.name in tconv.algorithms.ALGORITHMS


def test_explain_refuses_what_is_no_op():
    with pytest.raises(TypeError, match="function: expected one of tconv's ops"):
        tconv.explain(torch.nn.functional.conv2d, X, W_C)
    with pytest.raises(TypeError):
        tconv.explain(tconv.upsample_conv2d, X, W_C, no_such_argument=1)
    with pytest.raises(ValueError, match="weight: expected 4 dimensions"):
        tconv.explain(tconv.upsample_conv2d, X, torch.randn(3, 4, 3))


@pytest.mark.parametrize("function, args, kwargs, old", CALLS[1:], ids=[call[0].__name__ for call in CALLS[1:]])
def test_every_family_autotunes_and_remembers(autotuning, function, args, kwargs, old):
    first = tconv.explain(function, *args, **kwargs)
    capable = {name for name, why in first.reasons.items() if not why and first.family[name].auto}
    assert first.how == "autotuned" and set(first.times) == capable
    assert first.algorithm.name == min(first.times, key=first.times.__getitem__)
    out = function(*args, **kwargs)  # the call takes the winner
    torch.testing.assert_close(out, function(*args, **kwargs, algorithm=first.algorithm.name))
    assert tconv.explain(function, *args, **kwargs).how == "autotune cache"
    (path,) = autotuning.glob("autotune-*.json")
    family = {tconv.custom_conv2d: "custom"}.get(function, "fused")
    assert any(key.startswith(f"{family}: ") for key in json.loads(path.read_text())["winners"])


def test_custom_functions_are_tuned_in_memory_only(autotuning):
    def combine(x, w):
        return (x - w).abs()

    choice = tconv.explain(tconv.custom_conv2d, X, W_C, padding=1, combine=combine)
    assert choice.how == "autotuned"
    assert tconv.explain(tconv.custom_conv2d, X, W_C, padding=1, combine=combine).how == "autotune cache"
    assert not list(autotuning.glob("autotune-*.json"))  # a function's repr is no key for another process


def test_autotune_never_takes_an_algorithm_that_runs_only_when_forced(autotuning):
    plan = plan_for(X, W_T, None, stride=2)
    key = autotune.problem_key("transposed", plan)
    with autotune._lock:
        autotune._table(autotune.device_name(X.device))[key] = "reference"
    assert tconv.explain(X, W_T, stride=2).algorithm.name != "reference"


@pytest.mark.parametrize("tests", [TRANSPOSED_TESTS, FUSED_TESTS, CUSTOM_TESTS], ids=lambda t: t.name)
def test_every_family_speaks_the_same_testing_vocabulary(tests):
    cases = [case for case in tests.random_cases(7, 12) if tests.testable(case)]
    assert len(cases) >= 6
    for case in cases:
        reasons = tests.unable(case, torch.float64)
        assert set(reasons) == set(tests.algorithms)
        assert tests.supports("reference", case, torch.float64) == (not reasons["reference"])
        # the forcible float64 path runs the plan; the family's definition reads only the arguments
        if not reasons["reference"]:
            assert tests.compare_with_reference(case, "reference", torch.float64, seed=1).passed
        assert str(case)


@pytest.mark.parametrize("index, case", list(enumerate(random_cases(11, 60, 2))))
def test_run_spread_equals_run_with_the_built_kernel(index, case):
    """The fused ops hand the transposed family its kernel as a conv weight and a spread of its
    taps; every algorithm must compute what it computes from the built kernel."""
    x, w, b = case.tensors(torch.float64, seed=index)
    groups = case.kwargs.get("groups", 1)
    plan = plan_for(x, w, b, **case.kwargs)
    kernel_size = plan.kernel_size
    small = tuple(max(1, k - 1) for k in kernel_size)
    generator = torch.Generator().manual_seed(index)
    spread = torch.randn(small[0] * small[1], kernel_size[0] * kernel_size[1], generator=generator, dtype=torch.float64)
    cin, cout = plan.in_channels, plan.out_channels
    conv_weight = torch.randn(cout, cin // groups, *small, generator=generator, dtype=torch.float64)
    swapped = conv_weight.unflatten(0, (groups, -1)).transpose(1, 2).flatten(0, 1)
    kernel = (swapped.flatten(2) @ spread).view(cin, cout // groups, *kernel_size)
    for name, algorithm in transposed.ALGORITHMS.items():
        if algorithm.why_not(plan):
            continue
        expected = algorithm.run(plan, x, kernel, b)
        torch.testing.assert_close(algorithm.run_spread(plan, x, conv_weight, spread, b), expected, msg=name)
