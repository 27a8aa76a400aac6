"""Deliberate bugs the suite must catch: ``python tests/mutations.py [--only NAME] [--list]``.

Each mutation changes one window, crop, border or reduction rule in a copy of the source tree
(an exact text, found exactly once, so that a mutation that no longer applies is reported rather
than silently doing nothing), then runs the test suite without the interop tests and with the
interop frameworks out of reach (``TCONV_REQUIRE_INTEROP`` unset), stopping at the first failure.
A mutation is *caught* when the suite fails. The script exits with 1 if any is missed or no longer
applies. It is not part of the test command (each missed mutation costs a whole suite run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Mutation(NamedTuple):
    name: str
    path: str
    old: str
    new: str


MUTATIONS = (
    Mutation(
        "same_upper begins one later",
        "src/tconv/core/geometry.py",
        "begin = total - total // 2 if rule.lower else total // 2",
        "begin = total - total // 2 if rule.lower else (total + 1) // 2",
    ),
    Mutation(
        "same_lower crops like same_upper",
        "src/tconv/core/geometry.py",
        "begin = total - total // 2 if rule.lower else total // 2",
        "begin = total // 2",
    ),
    Mutation(
        "explicit pads read end for begin",
        "src/tconv/core/geometry.py",
        "    return AxisWindow(full, rule.begin, length)",
        "    return AxisWindow(full, rule.end, length)",
    ),
    Mutation(
        "forward 'same' pads the odd sample first",
        "src/tconv/core/geometry.py",
        "return tuple((total // 2, total - total // 2) for total in totals)",
        "return tuple((total - total // 2, total // 2) for total in totals)",
    ),
    Mutation(
        "native crops one sample less at the start",
        "src/tconv/transposed/algorithms/native.py",
        "        window.begin - padding,\n",
        "        max(0, window.begin - padding - 1),\n",
    ),
    Mutation(
        "polyphase reads one row too many at the end",
        "src/tconv/core/geometry.py",
        "        pad_end=end_row - size,",
        "        pad_end=end_row - size + 1,",
    ),
    Mutation(
        "fused border strip rounds down",
        "src/tconv/fused/plan.py",
        "begin = max(begin, -(-self.pad_begin // step))",
        "begin = max(begin, self.pad_begin // step)",
    ),
    Mutation(
        "fused linear upsampling without its edge extension",
        "src/tconv/fused/plan.py",
        'return 1 if self.upsampling and self.interpolation == "linear" and self.scale > 1 else 0',
        "return 0",
    ),
    Mutation(
        "conv_pool's composed kernel averages over one more",
        "src/tconv/fused/plan.py",
        "return tuple((a * self.stride, 1.0 / self.pool) for a in range(self.pool))",
        "return tuple((a * self.stride, 1.0 / (self.pool + 1)) for a in range(self.pool))",
    ),
    Mutation(
        "custom max's gradient goes to the last winner",
        "src/tconv/custom/presets.py",
        "first = torch.where(t == _keep(out, k), positions, math.prod(window)).amin(dims, keepdim=True)",
        "first = torch.where(t == _keep(out, k), positions, -1.0).amax(dims, keepdim=True)",
    ),
    Mutation(
        "logsumexp's gradient without its shift",
        "src/tconv/custom/presets.py",
        "_keep(g, k) * torch.exp(t - _keep(out, k))",
        "_keep(g, k) * torch.exp(t)",
    ),
    Mutation(
        "custom mean's gradient divides by one more",
        "src/tconv/custom/presets.py",
        "_keep(g, k) / math.prod(t.shape[-k:])",
        "_keep(g, k) / (math.prod(t.shape[-k:]) + 1)",
    ),
)


def run(mutation: Mutation, pytest_args: list[str]) -> str:
    """``"caught"``, ``"MISSED"`` or ``"DOES NOT APPLY"``, after running the suite on a mutated copy."""
    source = (ROOT / mutation.path).read_text()
    if source.count(mutation.old) != 1:
        return "DOES NOT APPLY"
    with tempfile.TemporaryDirectory(prefix="tconv-mutation-") as scratch:
        copy = Path(scratch) / "tconv"
        left_out = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache")
        shutil.copytree(ROOT, copy, ignore=left_out)
        (copy / mutation.path).write_text(source.replace(mutation.old, mutation.new))
        env = {key: value for key, value in os.environ.items() if key != "TCONV_REQUIRE_INTEROP"}
        env["PYTHONPATH"] = str(copy / "src")
        env["TCONV_CACHE_DIR"] = str(copy / "cache")
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--ignore=tests/interop"]
        result = subprocess.run(command + pytest_args, cwd=copy, env=env, capture_output=True, text=True)
    return "MISSED" if result.returncode == 0 else "caught"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the mutations whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--baseline", action="store_true", help="first check that the unmutated copy passes")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (e.g. a test file)")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or args.only in m.name]
    if args.list:
        for mutation in chosen:
            print(f"{mutation.name}: {mutation.path}")
        return 0
    if (
        args.baseline
        and run(Mutation("baseline", "pyproject.toml", "[project]", "[project]"), args.pytest_args) != "MISSED"
    ):
        print("the unmutated suite fails: fix it first")
        return 1
    verdicts = []
    for mutation in chosen:
        start = time.perf_counter()
        verdict = run(mutation, args.pytest_args)
        verdicts.append(verdict)
        print(f"{verdict:>14}  {mutation.name} ({mutation.path}, {time.perf_counter() - start:.0f} s)", flush=True)
    return 0 if all(verdict == "caught" for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
