"""``tconv.optimize``: find what tconv computes faster in a model and swap in exact equivalents.

Design
------
The model is traced with ``torch.fx`` (``F.interpolate`` kept as one call) and its graph rewritten
where nothing else uses the intermediate result:

* an upsampling with integer factors (``nn.Upsample``, ``nn.UpsamplingNearest2d``,
  ``nn.UpsamplingBilinear2d`` or ``F.interpolate``) feeding an ``nn.ConvNd`` becomes
  ``tconv.nn.UpsampleConvNd``;
* an ``nn.ConvNd`` feeding an average pooling whose stride is its kernel (``nn.AvgPoolNd`` or
  ``F.avg_poolNd``) becomes ``tconv.nn.ConvPoolNd``;
* ``nn.ConvTransposeNd`` becomes ``tconv.nn.ConvTransposeNd`` and ``F.conv_transposeNd``
  ``tconv.conv_transposeNd`` (``algorithm="auto"``).

Whether a pattern can be fused is the business of the modules' ``from_modules``/``from_module``,
which share the original ``Parameter`` objects and refuse with a ``ValueError`` or ``TypeError``
saying why; a refusal is a skipped pattern in the :class:`OptimizeReport`, never an error. The
rewritten ``GraphModule`` holds the original submodules, a fused module under its convolution's
name (so the state_dict keys stay), so the two models train together. With example inputs, both
models run (same random state, buffers restored) and must agree to :func:`model_tolerance`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import fx, nn

from . import nn as tnn
from .core.testing import relative_error, tolerance
from .transposed import functional

UPSAMPLES = (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)
#: ``F.avg_poolNd`` (builtins without signatures) and their parameters in order.
AVG_POOLS = {
    F.avg_pool1d: (1, ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")),
    F.avg_pool2d: (
        2,
        ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    ),
    F.avg_pool3d: (
        3,
        ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    ),
}
CONV_TRANSPOSES = {
    F.conv_transpose1d: functional.conv_transpose1d,
    F.conv_transpose2d: functional.conv_transpose2d,
    F.conv_transpose3d: functional.conv_transpose3d,
}
_INTERPOLATE = ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias")


@dataclass
class OptimizeReport:
    """What :func:`optimize` did: each pattern ``rewritten`` and each ``skipped`` with the reason,
    one readable line each; ``untraceable`` is torch.fx's reason when the model could not be
    traced (and was returned unchanged)."""

    rewritten: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    untraceable: Optional[str] = None
    _seen: set = field(default_factory=set, repr=False, compare=False)  # nodes already reported

    def skip(self, nodes: list[fx.Node], reason: str) -> None:
        self.skipped.append(f"{' + '.join(node.name for node in nodes)}: {reason}")
        self._seen.update(node.name for node in nodes)

    def __str__(self) -> str:
        if self.untraceable:
            return f"not traceable by torch.fx, returned unchanged: {self.untraceable}"
        lines = [f"rewritten: {line}" for line in self.rewritten] + [f"skipped: {line}" for line in self.skipped]
        return "\n".join(lines) or "nothing to rewrite"


def optimize(
    model: nn.Module, example_inputs: Any = None, *, check: bool = True, report: bool = False
) -> Union[nn.Module, tuple[nn.Module, OptimizeReport]]:
    """The model with the patterns tconv fuses or computes faster rewritten (see the module's
    design note), sharing the original's parameters.

    Args:
        model: any ``nn.Module`` torch.fx can trace.
        example_inputs: a tensor or a tuple of positional inputs. With ``check``, both models run
            on them and must agree.
        check: compare the outputs on ``example_inputs`` (ignored without them).
        report: also return the :class:`OptimizeReport`.

    Returns:
        The optimized module (a ``torch.fx.GraphModule``), or ``(module, report)``. A model
        torch.fx cannot trace is returned itself, with a warning.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        RuntimeError: ``check`` found outputs that differ beyond rounding (a bug: please report it).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module; got {type(model).__name__}")
    inputs = example_inputs if isinstance(example_inputs, tuple) or example_inputs is None else (example_inputs,)
    found = OptimizeReport()
    try:
        graph = _Tracer().trace(model)
    except Exception as error:  # noqa: BLE001 - whatever stops the tracer, the model stays as it is
        found.untraceable = (
            f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        )
        warnings.warn(f"tconv.optimize: {found}", UserWarning, stacklevel=2)
        return (model, found) if report else model
    gm = fx.GraphModule(model, graph, model.__class__.__name__)
    for rewrite in (_upsample_conv, _conv_pool, _conv_transpose):
        for node in list(gm.graph.nodes):
            rewrite(gm, node, found)
    _left_alone(gm, found)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    if check and inputs is not None:
        _check(model, gm, inputs)
    return (gm, found) if report else gm


class _Tracer(fx.Tracer):
    """torch.fx's tracer with ``F.interpolate`` as one call (its Python body branches on shapes)."""

    def __init__(self) -> None:
        super().__init__(autowrap_functions=(F.interpolate,))


def _module(gm: fx.GraphModule, node: fx.Node) -> Optional[nn.Module]:
    return gm.get_submodule(node.target) if node.op == "call_module" else None


def _only_user(node: fx.Node, user: fx.Node) -> bool:
    return len(node.users) == 1 and next(iter(node.users)) is user


def _arguments(node: fx.Node, names: tuple[str, ...]) -> dict[str, Any]:
    """A call's arguments by name (positional ones matched to ``names``)."""
    return {**dict(zip(names, node.args)), **node.kwargs}


def _replace(
    gm: fx.GraphModule, old: list[fx.Node], module: nn.Module, source: Any, found: OptimizeReport, what: str
) -> None:
    """Put ``module`` in the place of the convolution among ``old`` (same name, so the state_dict
    keeps its keys; a new name where the convolution is called elsewhere too), call it on
    ``source`` where the last of ``old`` was, and erase ``old``."""
    name = next(node.target for node in old if type(_module(gm, node)) in tnn.TORCH_CONV.values())
    if any(node.op == "call_module" and node.target == name and node not in old for node in gm.graph.nodes):
        name += "_fused"
        while hasattr(gm, name):
            name += "_"
    gm.add_submodule(name, module)
    with gm.graph.inserting_after(old[-1]):
        new = gm.graph.call_module(name, (source,))
    old[-1].replace_all_uses_with(new)
    for node in reversed(old):
        gm.graph.erase_node(node)
    found.rewritten.append(f"{what} -> {type(module).__name__} ({name})")


def _upsampling(gm: fx.GraphModule, node: fx.Node) -> Optional[nn.Module]:
    """The upsampling ``node`` computes, as a module, or None."""
    module = _module(gm, node)
    if isinstance(module, UPSAMPLES):
        return module
    if node.op == "call_function" and node.target is F.interpolate:
        args = _arguments(node, _INTERPOLATE)
        if args.get("antialias"):
            return None
        return nn.Upsample(
            args.get("size"), args.get("scale_factor"), args.get("mode", "nearest"), args.get("align_corners")
        )
    return None


def _upsample_conv(gm: fx.GraphModule, node: fx.Node, found: OptimizeReport) -> None:
    conv = _plain_conv(gm, node)
    up = node.args[0] if conv is not None else None
    upsample = _upsampling(gm, up) if isinstance(up, fx.Node) else None
    if upsample is not None:
        build = lambda: tnn.UPSAMPLE_CONV[_ndim(conv)].from_modules(upsample, conv)  # noqa: E731
        _fuse(gm, [up, node], up.args[0], found, build, "the upsampled tensor has other users")


def _conv_pool(gm: fx.GraphModule, node: fx.Node, found: OptimizeReport) -> None:
    pool = _module(gm, node)
    if type(pool) in tnn.TORCH_AVG_POOL.values():
        source = node.args[0] if len(node.args) == 1 and not node.kwargs else None
    elif node.op == "call_function" and node.target in AVG_POOLS:
        ndim, names = AVG_POOLS[node.target]
        args = _arguments(node, names)
        source = args.pop("input", None)
        try:
            pool = tnn.TORCH_AVG_POOL[ndim](**args)
        except TypeError:
            return
    else:
        return
    conv = _plain_conv(gm, source) if isinstance(source, fx.Node) else None
    if conv is not None:
        build = lambda: tnn.CONV_POOL[_ndim(conv)].from_modules(pool, conv)  # noqa: E731
        _fuse(gm, [source, node], source.args[0], found, build, "the convolution's output has other users")


def _conv_transpose(gm: fx.GraphModule, node: fx.Node, found: OptimizeReport) -> None:
    module = _module(gm, node)
    if type(module) in tnn.TORCH_CONV_TRANSPOSE.values():
        try:
            ours = tnn.CONV_TRANSPOSE[_ndim(module)].from_module(module)
        except (TypeError, ValueError) as refusal:
            found.skip([node], str(refusal))
            return
        gm.add_submodule(node.target, ours)
        found.rewritten.append(f"{node.name} -> {type(ours).__name__} ({node.target})")
    elif node.op == "call_function" and node.target in CONV_TRANSPOSES:
        node.target = CONV_TRANSPOSES[node.target]
        found.rewritten.append(f"{node.name} -> tconv.{node.target.__name__}")


def _plain_conv(gm: fx.GraphModule, node: fx.Node) -> Optional[nn.Module]:
    """The ``nn.ConvNd`` ``node`` calls on one tensor, or None."""
    conv = _module(gm, node)
    return conv if type(conv) in tnn.TORCH_CONV.values() and len(node.args) == 1 and not node.kwargs else None


def _fuse(
    gm: fx.GraphModule,
    old: list[fx.Node],
    source: Any,
    found: OptimizeReport,
    build: Callable[[], nn.Module],
    shared: str,
) -> None:
    """Replace the pair ``old`` by ``build()``, unless the first one's result is ``shared`` or
    the module refuses (both reported)."""
    if not _only_user(*old):
        found.skip(old, shared)
        return
    try:
        module = build()
    except (TypeError, ValueError) as refusal:
        found.skip(old, str(refusal))
        return
    _replace(gm, old, module, source, found, " + ".join(node.name for node in old))


def _left_alone(gm: fx.GraphModule, found: OptimizeReport) -> None:
    """Report the upsamplings and average poolings no rewrite took, and why."""
    for node in gm.graph.nodes:
        if node.name in found._seen:
            continue
        users = ", ".join(user.name for user in node.users) or "nothing"
        if _upsampling(gm, node) is not None:
            found.skip([node], f"the upsampling feeds {users}, not a convolution (nn.ConvNd) alone")
        elif type(_module(gm, node)) in tnn.TORCH_AVG_POOL.values() or (
            node.op == "call_function" and node.target in AVG_POOLS
        ):
            source = node.args[0].name if node.args and isinstance(node.args[0], fx.Node) else "?"
            found.skip(
                [node], f"the pooling's input comes from {source}, not from a convolution (nn.ConvNd) it alone uses"
            )


def _ndim(module: nn.Module) -> int:
    return len(module.kernel_size)


def _check(original: nn.Module, optimized: nn.Module, inputs: tuple) -> None:
    """Both models on ``inputs`` from the same random state, buffers restored after each run."""
    buffers = {name: b.detach().clone() for name, b in original.named_buffers()}

    def run(model: nn.Module) -> Any:
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(0)
            out = model(*inputs)
        for name, b in original.named_buffers():
            b.copy_(buffers[name])
        return out

    expected, actual = run(original), run(optimized)
    flat_expected, flat_actual = torch.utils._pytree.tree_leaves(expected), torch.utils._pytree.tree_leaves(actual)
    for e, a in zip(flat_expected, flat_actual):
        if isinstance(e, torch.Tensor) and (e.is_floating_point() or e.is_complex()):
            error, allowed = relative_error(a, e), model_tolerance(optimized, e.dtype)
            if not error <= allowed:
                raise RuntimeError(
                    f"tconv.optimize: the optimized model's output differs from the original's (relative error "
                    f"{error:.3g} > {allowed:.3g}); please report this with the model"
                )


def model_tolerance(model: nn.Module, dtype: torch.dtype) -> float:
    """The largest relative difference (to the largest magnitude) allowed between the outputs of two
    models that compute the same function in ``dtype`` by different sums: ``depth *
    tolerance(dtype, terms)`` (:func:`tconv.core.testing.tolerance`).

    ``depth`` is the number of convolution-like layers (modules whose ``weight`` has a kernel,
    ``ndim >= 3``): each adds its own rounding to the output, and a layer passes the relative error
    of its input on without amplifying it, so the errors add up along the model. ``terms`` is the
    longest sum of any of those layers, ``max(out, in) * taps`` of its weight (covering a
    convolution's and a transposed convolution's forward sums), times the upsampling scale or the
    pooling window a fused module folds into each product.
    """
    depth, terms = 0, 1
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if not isinstance(weight, torch.Tensor) or weight.ndim < 3:
            continue
        ndim = weight.ndim - 2
        window = 1.0
        for name in ("scale_factor", "pool_size"):
            value = getattr(module, name, None)
            if value is not None:
                window = math.prod(value) if isinstance(value, (tuple, list)) else float(value) ** ndim
        depth += 1
        terms = max(terms, math.ceil(max(weight.shape[0], weight.shape[1]) * math.prod(weight.shape[2:]) * window))
    return max(depth, 1) * tolerance(dtype, terms)
