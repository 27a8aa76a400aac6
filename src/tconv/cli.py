"""The ``tconv`` command line: ``tconv check`` and ``tconv bench``."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from rich.console import Console


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tconv", description="Exact, fast transposed convolutions.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="run every algorithm against the float64 reference on random problems")
    check.add_argument("--cases", type=int, default=300, help="random problems (default 300)")
    check.add_argument("--seed", type=int, default=0)

    bench = commands.add_parser("bench", help="time tconv's algorithms against PyTorch")
    bench.add_argument("--quick", action="store_true", help="fewer shapes and shorter timing")
    bench.add_argument("--backward", action="store_true", help="time forward+backward instead of forward")
    bench.add_argument("--algorithm", default="auto", help="the tconv algorithm to time (default: auto)")
    bench.add_argument("--min-run-time", type=float, default=None, help="seconds of timing per measurement")

    args = parser.parse_args(argv)
    console = Console()
    if args.command == "check":
        from .check import print_report, run_check

        rows = run_check(args.cases, args.seed)
        print_report(rows, console)
        return 0 if all(row.passed for row in rows) else 1
    from .bench import print_results, run_bench

    results = run_bench(quick=args.quick, backward=args.backward, min_run_time=args.min_run_time, algorithm=args.algorithm)
    print_results(results, console, backward=args.backward)
    return 0


if __name__ == "__main__":
    sys.exit(main())
