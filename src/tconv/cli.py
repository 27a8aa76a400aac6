"""The ``tconv`` command line: ``tconv check`` and ``tconv bench``."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import torch
from rich.console import Console

from .bench import DTYPES, FORMATS, SUITES


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tconv", description="Exact, fast transposed convolutions.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="run every algorithm against its float64 reference on random problems")
    check.add_argument(
        "--cases",
        type=int,
        default=100,
        help="random problems per algorithm and dtype, drawn from what the algorithm runs (default 100; "
        "20 at most for the algorithms that compile a kernel per problem)",
    )
    check.add_argument("--seed", type=int, default=0)

    suites = ", ".join(f"{name} ({suite.title})" for name, suite in SUITES.items())
    bench = commands.add_parser(
        "bench",
        help="time tconv against PyTorch and other upsampling modules",
        description=f"Time tconv side by side with what a PyTorch user writes (medians of torch.utils.benchmark, "
        f"columns alternating). Suites: {suites}.",
    )
    option = bench.add_argument
    option(
        "--suite",
        action="append",
        choices=list(SUITES),
        metavar="NAME",
        help=f"a suite to run, repeatable: {', '.join(SUITES)} (default: all)",
    )
    option("--device", choices=("cpu", "cuda"), default="cpu", help="default: cpu")
    option(
        "--dtype",
        choices=list(DTYPES),
        help="tensor dtype (default float32); with --amp the autocast dtype (default float16 on cuda, bfloat16 on cpu)",
    )
    option("--channels-last", action="store_true", help="channels_last (channels_last_3d) tensors")
    option("--amp", action="store_true", help="float32 tensors under torch.autocast in the low-precision --dtype")
    option("--backward", action="store_true", help="time forward+backward instead of forward")
    option(
        "--bias",
        action="store_true",
        help="give the transposed convolutions of the upsample and convt suites a bias (nn.ConvTransposeNd's default)",
    )
    option("--quick", action="store_true", help="fewer rows and shorter timing")
    option("--algorithm", default="auto", help="the tconv algorithm to time (default: auto)")
    option("--min-run-time", type=float, help="seconds of timing per measurement (default 0.5; 0.1 with --quick)")
    option("--format", choices=FORMATS, default="table", help="table, csv, json or markdown (default: table)")
    option("--output", metavar="FILE", help="write the output to FILE instead of stdout")
    option(
        "--plot",
        metavar="FILE.png",
        help="also save a bar chart of the times (needs matplotlib: pip install 'tconv[plot]')",
    )
    option(
        "--tiny", action="store_true", help=argparse.SUPPRESS
    )  # for the tests: tiny shapes, ~1 ms timing (bench.Settings.tiny)

    args = parser.parse_args(argv)
    console = Console()
    if args.command == "check":
        from .check import print_report, run_check

        rows = run_check(args.cases, args.seed)
        print_report(rows, console)
        return 0 if all(row.passed for row in rows) else 1
    return _bench(args, bench)


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``tconv bench``: settings from the options (a bad combination exits with the option named),
    the run, then the output (table, CSV or JSON) and the optional plot."""
    from .bench import AMP_DEFAULT, Settings, plot, run_bench, write_output

    dtype = DTYPES[args.dtype] if args.dtype else None
    settings = Settings(
        device=args.device,
        dtype=torch.float32 if args.amp or dtype is None else dtype,
        amp=(dtype or AMP_DEFAULT[args.device]) if args.amp else None,
        channels_last=args.channels_last,
        backward=args.backward,
        bias=args.bias,
        quick=args.quick,
        tiny=args.tiny,
        algorithm=args.algorithm,
        min_run_time=args.min_run_time,
    )
    try:
        settings.check()
    except ValueError as error:
        parser.error(str(error))
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'tconv[plot]'")
    results = run_bench(settings, args.suite)
    write_output(results, settings, args.format, args.output)
    if args.plot:
        plot(results, settings, args.plot)
    if args.output or args.plot:
        written = " and ".join(path for path in (args.output, args.plot) if path)
        Console(stderr=True).print(f"wrote {written}", highlight=False)
    return 1 if any(result.failed for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
