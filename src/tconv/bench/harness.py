"""The harness of ``tconv bench``: :class:`Settings`, the row and suite protocol (:class:`Row`,
:class:`RowRun`, :class:`Suite`), timing, peak memory and :func:`run_bench`. The design is described
in :mod:`tconv.bench`; the suites are in :mod:`tconv.bench.suites`, the output in
:mod:`tconv.bench.formats`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import platform
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Protocol, Sequence, Union

import torch
from torch import profiler
from torch.utils import benchmark

from .. import custom, fused, transposed
from ..core import VERSION
from ..core.autotune import autotune_enabled

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}
AMP_DEFAULT = {"cuda": torch.float16, "cpu": torch.bfloat16}

Method = Callable[[], object]


def _dtype_name(dtype: Optional[torch.dtype]) -> Optional[str]:
    return None if dtype is None else str(dtype).removeprefix("torch.")


# --------------------------------------------------------------------------------------------
# Settings: everything a row needs to build its tensors


@dataclass(frozen=True)
class Settings:
    """How to run: device, dtype, layout, autocast, pass, row selection and timing.

    ``dtype`` is the dtype of the tensors; with ``amp`` (an autocast dtype) the tensors stay
    float32 and the operations run under ``torch.autocast(device, amp)``.
    """

    device: str = "cpu"
    dtype: torch.dtype = torch.float32
    amp: Optional[torch.dtype] = None
    channels_last: bool = False
    backward: bool = False
    bias: bool = False
    quick: bool = False
    tiny: bool = False
    algorithm: str = "auto"
    min_run_time: Optional[float] = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the option when these settings cannot run here."""
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"--device: expected 'cpu' or 'cuda'; got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            why = "this PyTorch was built without CUDA" if torch.version.cuda is None else "no CUDA device is visible"
            raise ValueError(
                f"--device cuda: CUDA is not available ({why}; torch {torch.__version__}); use --device cpu"
            )
        if self.amp is not None:
            if self.amp not in (torch.float16, torch.bfloat16):
                raise ValueError(f"--amp: autocast needs --dtype float16 or bfloat16; got {_dtype_name(self.amp)}")
            if self.dtype != torch.float32:
                raise ValueError("--amp: the tensors stay float32 under autocast; --dtype names the autocast dtype")
        known = {**transposed.ALGORITHMS, **fused.ALGORITHMS, **custom.ALGORITHMS}
        if self.algorithm != "auto" and self.algorithm not in known:
            legal = ", ".join(map(repr, ("auto", *known)))
            raise ValueError(f"--algorithm: unknown algorithm {self.algorithm!r}; legal values are {legal}")
        if self.min_run_time is not None and not self.min_run_time > 0:
            raise ValueError(f"--min-run-time: expected a positive number of seconds; got {self.min_run_time}")

    @property
    def run_time(self) -> float:
        """Seconds of timing per measurement."""
        if self.min_run_time is not None:
            return self.min_run_time
        return 0.001 if self.tiny else 0.1 if self.quick else 0.5

    @property
    def threads(self) -> int:
        """CPU threads while timing: PyTorch's, or 1 for tiny runs (whose calls are so short that
        waking a second thread on a busy machine would dominate)."""
        return 1 if self.tiny else torch.get_num_threads()

    @property
    def pass_name(self) -> str:
        return "forward+backward" if self.backward else "forward"

    def channels(self, channels: int) -> int:
        return max(2, channels // 32) if self.tiny else channels

    def shape(self, batch: int, channels: int, *spatial: int) -> tuple[int, ...]:
        """An input shape, shrunk when ``tiny``."""
        if not self.tiny:
            return (batch, channels, *spatial)
        return (min(batch, 2), self.channels(channels), *(max(4, size // 4) for size in spatial))

    def tensor(self, shape: Sequence[int], generator: torch.Generator, *, grad: bool = True) -> torch.Tensor:
        """A random tensor on the device, in the dtype and memory format, needing a gradient
        under ``backward`` (unless ``grad`` is False)."""
        t = torch.randn(tuple(shape), generator=generator).to(self.device, self.dtype)
        if self.channels_last and t.dim() in (4, 5):
            t = t.contiguous(memory_format=torch.channels_last if t.dim() == 4 else torch.channels_last_3d)
        return t.requires_grad_(self.backward and grad)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device, dtype=self.amp)

    def describe(self) -> dict[str, object]:
        """The settings as JSON-ready values (the ``config`` of the CSV and JSON output)."""
        return {
            "device": self.device,
            "device_name": torch.cuda.get_device_name() if self.device == "cuda" else platform.machine(),
            "dtype": _dtype_name(self.dtype),
            "amp": _dtype_name(self.amp),
            "channels_last": self.channels_last,
            "pass": self.pass_name,
            "bias": self.bias,
            "threads": self.threads,
            "algorithm": self.algorithm,
            "autotune": autotune_enabled(),
            "min_run_time": self.run_time,
            "quick": self.quick,
            "tiny": self.tiny,
            "torch": torch.__version__,
            "tconv": VERSION,
        }


# --------------------------------------------------------------------------------------------
# Rows and suites: rows build what is timed; the registry is :data:`tconv.bench.suites.SUITES`


@dataclass
class RowRun:
    """One row, ready to time: what :meth:`Row.build` returns.

    ``methods`` maps each column to a zero-argument callable returning its result (a tensor), or
    to a string: why the column cannot run here (e.g. the forced tconv algorithm cannot run the
    problem). ``inputs`` are the tensors gradients are taken for under ``--backward``.
    """

    shape: str
    inputs: tuple[torch.Tensor, ...]
    methods: dict[str, Union[Method, str]]
    algorithm: str = ""


class Row(Protocol):
    """A row of a suite: its name, whether ``--quick`` keeps it, the devices it runs on (``cpu``,
    ``cuda``), and how to build its :class:`RowRun` (tensors made with :meth:`Settings.tensor`)."""

    name: str
    quick: bool
    devices: tuple[str, ...]

    def build(self, settings: Settings) -> RowRun: ...


@dataclass(frozen=True)
class Suite:
    """A named list of rows; ``speedup`` is ``baseline`` ms / ``contender`` ms."""

    name: str
    title: str
    rows: tuple[Row, ...]
    baseline: str
    contender: str = "tconv"
    memory: bool = False  # also measure the peak memory of baseline and contender

    def rows_for(self, settings: Settings) -> list[Row]:
        return [row for row in self.rows if settings.device in row.devices and (row.quick or not settings.quick)]


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class CaseResult:
    """The times of one row: ``ms`` per column that ran, ``peak_mib`` per column measured (a
    ``memory`` suite's baseline and contender); ``errors`` per column that did not run
    (``"n/a: ..."`` when it cannot run this problem, anything else is a failure)."""

    suite: Suite
    name: str
    shape: str = ""
    algorithm: str = ""
    methods: list[str] = field(default_factory=list)
    ms: dict[str, float] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def speedup(self) -> Optional[float]:
        """``baseline`` ms / ``contender`` ms, when both ran."""
        return _ratio(self.ms.get(self.suite.baseline), self.ms.get(self.suite.contender))

    @property
    def failed(self) -> bool:
        return any(not error.startswith("n/a") for error in self.errors.values())


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return None if numerator is None or not denominator else numerator / denominator


def _timed(settings: Settings, fn: Method, inputs: Sequence[torch.Tensor]) -> Method:
    """``fn`` under autocast, and with its backward under ``--backward`` (gradients of the inputs
    it depends on, with a ones gradient made once; nothing accumulates between calls)."""
    if settings.amp is None:
        forward = fn
    else:

        def forward() -> object:
            with settings.autocast():
                return fn()

    if not settings.backward:
        return forward
    leaves = [t for t in inputs if t.requires_grad]
    grads: list[torch.Tensor] = []

    def run() -> None:
        out = forward()
        if isinstance(out, torch.Tensor) and out.requires_grad:  # a plain copy has no backward
            if not grads:
                grads.append(torch.ones_like(out))
            torch.autograd.grad(out, leaves, grads[0], allow_unused=True)

    return run


def _time(fn: Method, settings: Settings) -> float:
    """Median milliseconds of ``fn`` (the Timer synchronises the GPU)."""
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=settings.threads)
    return timer.blocked_autorange(min_run_time=settings.run_time).median * 1e3


def _peak_mib(settings: Settings, fn: Method) -> float:
    """The most MiB one call of ``fn`` allocates above what was allocated before it, its result
    included: CUDA's allocator statistics, or on CPU the highest running sum of the profiler's
    allocation (positive) and free (negative) events in time order."""
    if settings.device == "cuda":
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    activities = [profiler.ProfilerActivity.CPU]
    with _stderr_to_devnull(), profiler.profile(activities=activities, profile_memory=True) as prof:
        fn()
    events = (e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    events = sorted(events, key=lambda e: e.start_ns())
    return max(itertools.accumulate((e.nbytes() for e in events), initial=0)) / 2**20


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """File descriptor 2 to /dev/null: libkineto logs every profiler start and stop there, at any
    log level, through the progress bar."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0]
