"""``tconv bench`` several times, as one markdown table per suite: medians and every run's speedup.

Usage::

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 \\
        python benchmarks/runs.py --runs 3 [any tconv bench option: --suite, --backward, ...]

Each run is a separate process (``python -m tconv bench --format json``), so the runs differ as
processes do (allocator state, compiled kernels loaded from inductor's cache). A cell is the median
of the runs' milliseconds; ``speedup`` is the median of the runs' speedups (each the baseline's ms
over tconv's in the same run, the columns timed side by side), then every run's in order. This is
how BENCHMARKS.md's suite tables are made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run_once(options: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.json")
        command = [sys.executable, "-m", "tconv", "bench", "--format", "json", "--output", path, *options]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(path) as handle:
            return json.load(handle)


def cell(values: list, digits: int = 3) -> str:
    present = [v for v in values if v is not None]
    return f"{statistics.median(present):.{digits}f}" if present else "-"


def malloc() -> str:
    keys = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
    return "malloc " + (" ".join(f"{key}={os.environ[key]}" for key in keys if key in os.environ) or "default")


def markdown(runs: list[dict]) -> str:
    config = runs[0]["config"]
    lines = [
        f"{len(runs)} runs of `tconv bench` ({config['pass']}, {config['device']}, {config['dtype']}, "
        f"{'channels_last' if config['channels_last'] else 'contiguous'}, {'with' if config['bias'] else 'no'} bias, "
        f"{config['threads']} threads, algorithm={config['algorithm']}, torch {config['torch']}); "
        f"{malloc()}"
    ]
    cells: dict[tuple, dict[str, list]] = {}
    for run in runs:
        for record in run["results"]:
            key = (record["suite"], record["case"])
            row = cells.setdefault(key, {"methods": {}, "algorithm": record["algorithm"] or ""})
            row["methods"].setdefault(record["method"], []).append(record)
            if record["method"] == "tconv" and record["algorithm"]:
                row["algorithm"] = record["algorithm"]
    for suite in dict.fromkeys(key[0] for key in cells):
        rows = {case: row for (name, case), row in cells.items() if name == suite}
        methods = list(dict.fromkeys(m for row in rows.values() for m in row["methods"]))
        memory = any(r["peak_mib"] is not None for row in rows.values() for rs in row["methods"].values() for r in rs)
        baseline = next(m for m in methods if all(r["speedup"] == 1.0 for r in rows[next(iter(rows))]["methods"][m]))
        header = ["case", "algorithm", *(f"{m} ms" for m in methods), "speedup (median; runs)"]
        if memory:
            header.append(f"peak MiB {baseline} → tconv")
        lines += [
            "",
            f"**{suite}**",
            "",
            "| " + " | ".join(header) + " |",
            "| " + " | ".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + " |",
        ]
        for case, row in rows.items():
            ms = [cell([r["ms"] for r in row["methods"].get(m, [])]) for m in methods]
            speedups = [r["speedup"] for r in row["methods"].get("tconv", []) if r["speedup"] is not None]
            speed = (
                f"{statistics.median(speedups):.2f}× ({', '.join(f'{s:.2f}' for s in speedups)})" if speedups else "-"
            )
            entries = [case.replace("|", "\\|"), row["algorithm"], *ms, speed]
            if memory:
                base = cell([r["peak_mib"] for r in row["methods"][baseline]], 1)
                ours = cell([r["peak_mib"] for r in row["methods"].get("tconv", [])], 1)
                entries.append(f"{base} → {ours}")
            lines.append("| " + " | ".join(entries) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    known, options = parser.parse_known_args()
    print(markdown([run_once(options) for _ in range(known.runs)]))


if __name__ == "__main__":
    main()
