"""Autotuning: time the capable algorithms once per problem, remember the fastest.

For every family (the dispatcher, :mod:`tconv.core.dispatch`, calls it). Off by default (each
family's ``preference`` decides without measuring); on with ``tconv.set_autotune(True)`` or
``TCONV_AUTOTUNE=1``. Winners are kept in memory and in one JSON file per device under the user
cache directory (``TCONV_CACHE_DIR`` overrides it), keyed by the family and the plan's
``problem_key()``, written atomically and merged with what other processes wrote. A corrupt file,
or one written for another device, torch version or format, is ignored with a warning. Problems
without a stable key (custom convolutions of Python functions) are kept in memory only. All of it
is thread-safe.
"""

from __future__ import annotations

import json
import os
import platform
import re
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

import torch
from torch.utils import benchmark

from .plan import TensorFacts

FORMAT = 2
_lock = threading.RLock()
_enabled: Optional[bool] = None  # None: follow TCONV_AUTOTUNE
_persist = True
_memory: dict[str, dict[object, str]] = {}  # device -> problem key -> algorithm
_loaded: set[str] = set()


def set_autotune(enabled: bool, *, persist: bool = True) -> None:
    """Turn autotuning on or off for this process; ``persist=False`` keeps winners in memory only."""
    global _enabled, _persist
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled: expected True or False; got {enabled!r}")
    with _lock:
        _enabled, _persist = enabled, persist


def autotune_enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("TCONV_AUTOTUNE", "0").lower() in ("1", "true", "yes", "on")


def clear_memory() -> None:
    """Forget every winner held in memory (files on disk stay)."""
    with _lock:
        _memory.clear()
        _loaded.clear()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda {torch.cuda.get_device_name(device)}"
    return f"{device.type} {platform.processor() or platform.machine()} {os.cpu_count()} cores"


def cache_dir() -> Path:
    override = os.environ.get("TCONV_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("tconv"))


def cache_file(device: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", device).strip("_")
    return cache_dir() / f"autotune-{slug}.json"


def problem_key(family: str, plan: TensorFacts) -> Union[str, tuple]:
    """The cache key of ``plan`` in ``family``: a string, or (for a plan without a stable key) a
    tuple holding the plan, kept in memory only."""
    key = plan.problem_key()
    return f"{family}: {key}" if key else (family, plan)


def _header(device: str) -> dict:
    return {"format": FORMAT, "device": device, "torch": torch.__version__}


def _read(device: str) -> dict[str, str]:
    path = cache_file(device)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("winners"), dict):
            raise ValueError("no 'winners' table")
    except (OSError, ValueError) as error:
        warnings.warn(f"tconv: ignoring the corrupt autotune cache {path}: {error}", RuntimeWarning, stacklevel=4)
        return {}
    if {key: data.get(key) for key in ("format", "device", "torch")} != _header(device):
        warnings.warn(
            f"tconv: ignoring the autotune cache {path}: written for another device, torch or format",
            RuntimeWarning,
            stacklevel=4,
        )
        return {}
    return {str(k): str(v) for k, v in data["winners"].items()}


def _write(device: str, winners: dict[str, str]) -> None:
    path = cache_file(device)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = {**_read_quietly(device), **winners}
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(descriptor, "w") as handle:
            json.dump({**_header(device), "winners": merged}, handle, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError as error:
        warnings.warn(f"tconv: could not write the autotune cache {path}: {error}", RuntimeWarning, stacklevel=4)


def _read_quietly(device: str) -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read(device)


def _table(device: str) -> dict[str, str]:
    if device not in _loaded:
        _memory.setdefault(device, {}).update(_read(device) if _persist else {})
        _loaded.add(device)
    return _memory.setdefault(device, {})


def cached_winner(family: str, plan: TensorFacts, device: torch.device) -> Optional[str]:
    with _lock:
        return _table(device_name(device)).get(problem_key(family, plan))


def tune(
    family: str,
    plan: TensorFacts,
    device: torch.device,
    candidates: Iterable[str],
    run: Callable[[str], None],
    min_run_time: float = 0.05,
) -> tuple[str, dict[str, float]]:
    """Time ``run(name)`` for every candidate, remember and return the fastest with all times (s)."""
    times = {}
    for name in candidates:
        timer = benchmark.Timer(
            stmt="run(name)", globals={"run": run, "name": name}, num_threads=torch.get_num_threads()
        )
        run(name)  # warm-up
        times[name] = timer.blocked_autorange(min_run_time=min_run_time).median
    winner = min(times, key=times.__getitem__)
    key = problem_key(family, plan)
    with _lock:
        device_key = device_name(device)
        _table(device_key)[key] = winner
        if _persist and isinstance(key, str):
            _write(device_key, {key: winner})
    return winner, times
