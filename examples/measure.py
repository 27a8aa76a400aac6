"""What every example does after building its model: optimize it, check it, time both side by side."""

from __future__ import annotations

import torch
from torch.utils import benchmark

import tconv


def optimize_and_measure(model: torch.nn.Module, inputs: tuple, *, quick: bool = False) -> dict[str, float]:
    """``tconv.optimize(model)`` on ``inputs``; the two models' forward times (medians of
    ``torch.utils.benchmark``, alternating, the lower of three each) and their largest difference,
    absolute and relative to the original output's largest magnitude.
    Prints what was rewritten and the numbers."""
    model.eval()
    optimized, report = tconv.optimize(model, inputs, report=True)
    print(report)
    with torch.no_grad():
        pairs = list(
            zip(torch.utils._pytree.tree_leaves(optimized(*inputs)), torch.utils._pytree.tree_leaves(model(*inputs)))
        )
        difference = max((a - b).abs().max().item() for a, b in pairs)
        relative = max((a - b).abs().max().item() / b.abs().max().item() for a, b in pairs)
        times: dict[str, list[float]] = {"original": [], "optimized": []}
        for _ in range(1 if quick else 3):
            for name, m in (("original", model), ("optimized", optimized)):
                timer = benchmark.Timer(
                    "m(*inputs)", globals={"m": m, "inputs": inputs}, num_threads=torch.get_num_threads()
                )
                times[name].append(timer.blocked_autorange(min_run_time=0.01 if quick else 0.5).median * 1e3)
    ms = {name: min(values) for name, values in times.items()}
    result = {
        **ms,
        "speedup": ms["original"] / ms["optimized"],
        "max_difference": difference,
        "relative_difference": relative,
    }
    print(
        f"forward, {torch.get_num_threads()} threads: original {ms['original']:.2f} ms, optimized "
        f"{ms['optimized']:.2f} ms, {result['speedup']:.2f}x; largest difference {difference:.2e} "
        f"(relative {relative:.2e})"
    )
    return result
