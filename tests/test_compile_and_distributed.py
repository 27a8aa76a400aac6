"""tconv under ``torch.compile``, ``DistributedDataParallel`` and ``torch.autocast``: the same
numbers as eager, single-process, full-precision PyTorch.

Each result is compared with the float64 result of the same model (under autocast: of each layer on
its bfloat16-rounded operands), relative to its largest magnitude, and held to the tolerance of its
dtype and its sums (:func:`tconv.core.testing.tolerance`; for a whole model
:func:`tconv.optimize.model_tolerance`, one tolerance per layer).

``torch.compile`` traces through tconv's Python (plans are pure Python; the ``compiled`` custom
kernels run eagerly inside an outer compile). DDP trains a model holding every tconv module on two
CPU processes (gloo), each with half the batch, and its gradients must equal one process's on the
whole batch.
"""

from __future__ import annotations

import copy
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import tconv
from tconv.core.testing import relative_error, tolerance
from tconv.optimize import model_tolerance


def every_module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        tconv.nn.ConvTranspose2d(3, 8, 4, stride=2, padding=1),
        nn.ReLU(),
        tconv.nn.UpsampleConv2d(8, 8, 3, padding=1),
        tconv.nn.ConvPool2d(8, 8, 3, padding=1, padding_mode="reflect"),
        tconv.nn.UpsampleConv2d(8, 8, 3, mode="bilinear", align_corners=False, padding="same"),
        tconv.nn.CustomConv2d(8, 4, 3, padding=1, combine="abs_diff"),
        tconv.nn.ConvPool2d(4, 4, 1, pool_size=2),
    )


def _loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x).square().mean()


def exact(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` (the original's parameters untouched)."""
    return copy.deepcopy(model).double()


def gradient_terms(model: nn.Module, x: torch.Tensor) -> int:
    """The longest sum in a weight's gradient: every sample and position of the largest activation."""
    sizes = []
    hooks = [
        m.register_forward_hook(lambda m, args, out: sizes.append(out[0, 0].numel()))
        for m in model.modules()
        if not list(m.children())
    ]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return x.shape[0] * max(sizes)


def gradient_tolerance(model: nn.Module, x: torch.Tensor, dtype: torch.dtype) -> float:
    """The tolerance of the gradients of a loss of ``model(x)``: the rounding of every layer on the
    way forward and on the way back (twice :func:`model_tolerance`'s depth), each for the longest sum
    forward or in a gradient."""
    layers = sum(
        1 for m in model.modules() if isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.ndim >= 3
    )
    return max(2 * model_tolerance(model, dtype), 2 * layers * tolerance(dtype, gradient_terms(model, x)))


def assert_within(actual: torch.Tensor, expected: torch.Tensor, allowed: float, what: str) -> None:
    error = relative_error(actual, expected)
    assert error <= allowed, f"{what}: relative error {error:.3g} > {allowed:.3g}"


def test_every_module_under_torch_compile():
    model = every_module()
    x = torch.randn(2, 3, 5, 6, requires_grad=True)
    wide = exact(model)
    x64 = x.detach().double().requires_grad_()
    expected = wide(x64)
    expected_grads = torch.autograd.grad(expected.square().sum(), (x64, *wide.parameters()))
    compiled = torch.compile(model)
    actual = compiled(x)
    assert_within(actual, expected, model_tolerance(model, torch.float32), "output")
    allowed = gradient_tolerance(model, x.detach(), torch.float32)
    grads = torch.autograd.grad(actual.square().sum(), (x, *model.parameters()))
    for (name, _), a, e in zip([("input", None), *model.named_parameters()], grads, expected_grads):
        assert_within(a, e, allowed, f"gradient of {name}")


@pytest.mark.parametrize(
    "function, args",
    [
        (tconv.conv_transpose2d, dict(stride=2, padding="same")),
        (tconv.upsample_conv2d, dict(padding=1, mode="nearest")),
        (tconv.conv_pool2d, dict(padding=1)),
        (tconv.custom_conv2d, dict(padding=1, combine="sq_diff", reduce="max")),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_functions_under_torch_compile(function, args):
    x = torch.randn(2, 4, 6, 5)
    w = torch.randn(4, 4, 3, 3)
    expected = function(x.double(), w.double(), **args)
    actual = torch.compile(lambda x, w: function(x, w, **args))(x, w)
    assert_within(actual, expected, tolerance(torch.float32, 4 * 3 * 3), function.__name__)  # 4 channels x 3x3 taps


def test_optimized_model_under_torch_compile():
    from test_optimize import Decoder  # tests/ is on sys.path

    torch.manual_seed(0)
    model = Decoder()
    x = torch.randn(2, 8, 6, 6)
    optimized = tconv.optimize(model, x)
    with torch.no_grad():
        expected = exact(model)(x.double())
        actual = torch.compile(optimized)(x)
    assert_within(actual, expected, model_tolerance(optimized, torch.float32), "optimized model")


@pytest.mark.parametrize(
    "module, shape",
    [
        (lambda: tconv.nn.ConvTranspose2d(4, 4, 2, stride=2), (2, 4, 8, 8)),  # nonoverlap_compiled
        (lambda: tconv.nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1), (2, 4, 64, 64)),  # subpixel_compiled
        (lambda: tconv.nn.UpsampleConv2d(4, 4, 3, padding=1), (2, 4, 32, 32)),
        (lambda: tconv.nn.CustomConv2d(4, 4, 3, padding=1, combine="abs_diff"), (2, 4, 8, 8)),
    ],
    ids=["nonoverlap", "subpixel", "upsample_conv", "custom"],
)
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore:`torch.jit.trace:DeprecationWarning")
def test_jit_trace_with_compiling_on(module, shape, compiling):
    """``torch.jit.trace`` (and the ONNX exporter built on it) records the portable algorithm's
    standard operators, never a call into inductor's compiled kernels (which crashed the tracer)."""
    torch.manual_seed(0)
    model = module().eval()
    x = torch.randn(shape)
    with torch.no_grad():
        model(x)  # compiles the problem outside the trace
        traced = torch.jit.trace(model, x)
        expected = exact(model)(2 * x.double())
        assert_within(traced(2 * x), expected, model_tolerance(model, torch.float32), "traced")
        assert_within(model(2 * x), expected, model_tolerance(model, torch.float32), "compiled")


def test_every_module_under_autocast_after_a_torch_op():
    """A tconv module after an autocast op gets a bfloat16 input and float32 parameters: it casts
    them as PyTorch's convolutions do, and its gradients reach the float32 parameters."""
    model = nn.Sequential(nn.Conv2d(3, 3, 1), every_module())
    layers = [m for m in model.modules() if isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.ndim >= 3]
    calls = []
    hooks = [m.register_forward_hook(lambda m, args, out: calls.append((m, args[0], out))) for m in layers]
    x = torch.randn(2, 3, 5, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    for hook in hooks:
        hook.remove()
    assert out.dtype == torch.bfloat16
    assert [m for m, _, _ in calls] == layers
    # Each layer against float64 on its bfloat16-rounded operands (autocast rounds the input, the
    # weight and the bias): one bfloat16 rounding of the result and float32 sums, per layer, as
    # the layers' errors cannot be told apart from the model's conditioning at the output.
    for module, input, output in calls:
        assert output.dtype == torch.bfloat16, module
        if module is not model[0]:
            assert input.dtype == torch.bfloat16, module
        wide = exact(module)
        for p in wide.parameters():
            p.data = p.data.to(torch.bfloat16).double()
        with torch.no_grad():
            expected = wide(input.detach().to(torch.bfloat16).double())
        assert_within(output, expected, model_tolerance(module, torch.bfloat16), type(module).__name__)
    out.float().square().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


def _train_step(rank: int, world: int, init: str, x: torch.Tensor, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        tconv.set_compile(False)  # compiling per process would only take time here
        model = nn.parallel.DistributedDataParallel(every_module())
        part = x.chunk(world)[rank]
        _loss(model, part).backward()
        if rank == 0:
            torch.save([p.grad for p in model.parameters()], out)
    finally:
        dist.destroy_process_group()
    # no interpreter teardown: freeing the DDP reducer joins gloo's worker thread while holding
    # the GIL, which the worker may need to free its last work (PyTorch's deadlock, seen once in CI)
    os._exit(0)


def test_distributed_data_parallel_matches_one_process(tmp_path):
    x = torch.randn(4, 3, 5, 6, generator=torch.Generator().manual_seed(1))
    out = str(tmp_path / "grads.pt")
    mp.spawn(_train_step, args=(2, f"file://{tmp_path / 'init'}", x, out), nprocs=2, join=True)
    model = every_module()
    _loss(model, x).backward()
    # the same per-sample computations; only the weight gradients' sums over the batch are taken in
    # another order (two halves, then averaged)
    allowed = tolerance(torch.float32, gradient_terms(model, x))
    for ddp_grad, (name, p) in zip(torch.load(out), model.named_parameters()):
        assert_within(ddp_grad, p.grad, allowed, f"gradient of {name}")
