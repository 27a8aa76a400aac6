"""tconv under ``torch.compile``, ``DistributedDataParallel`` and ``torch.autocast``: the same
numbers as eager, single-process, full-precision PyTorch.

``torch.compile`` traces through tconv's Python (plans are pure Python; the ``compiled`` custom
kernels run eagerly inside an outer compile). DDP trains a model holding every tconv module on two
CPU processes (gloo), each with half the batch, and its gradients must equal one process's on the
whole batch.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import tconv


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


def test_every_module_under_torch_compile():
    model = every_module()
    x = torch.randn(2, 3, 5, 6, requires_grad=True)
    expected = model(x)
    expected_grads = torch.autograd.grad(expected.square().sum(), (x, *model.parameters()))
    compiled = torch.compile(model)
    actual = compiled(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    for a, e in zip(torch.autograd.grad(actual.square().sum(), (x, *model.parameters())), expected_grads):
        torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-5)


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
    expected = function(x, w, **args)
    torch.testing.assert_close(torch.compile(lambda x, w: function(x, w, **args))(x, w), expected, rtol=1e-4, atol=1e-5)


def test_optimized_model_under_torch_compile():
    from test_optimize import Decoder  # tests/ is on sys.path

    torch.manual_seed(0)
    model = Decoder()
    x = torch.randn(2, 8, 6, 6)
    optimized = tconv.optimize(model, x)
    torch.testing.assert_close(torch.compile(optimized)(x), model(x), rtol=1e-4, atol=1e-5)


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
        torch.testing.assert_close(traced(2 * x), model(2 * x), rtol=1e-4, atol=1e-5)


def test_every_module_under_autocast_after_a_torch_op():
    """A tconv module after an autocast op gets a bfloat16 input and float32 parameters: it casts
    them as PyTorch's convolutions do, and its gradients reach the float32 parameters."""
    model = nn.Sequential(nn.Conv2d(3, 3, 1), every_module())
    x = torch.randn(2, 3, 5, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), model(x), rtol=0.1, atol=0.1)
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
    for ddp_grad, p in zip(torch.load(out), model.parameters()):
        torch.testing.assert_close(ddp_grad, p.grad, rtol=1e-5, atol=1e-6)
