"""The package's layers: no module imports from a layer above its own, and no import cycle.

The layers, bottom up (see the package docstring of :mod:`tconv`): ``core``, ``kernels``, the
transposed family, the fused and custom families (the fused ops use the transposed family's
dispatcher; fused and custom never import each other), ``nn``, ``interop`` and ``optimize``, then
the tools (``check``, ``bench``, ``cli``) and the package itself. Imports are read from the source
with ``ast``, those inside functions and ``TYPE_CHECKING`` blocks included.
"""

import ast
from pathlib import Path

import pytest

import tconv

ROOT = Path(tconv.__file__).parent

LAYERS = {
    "core": 0,
    "kernels": 1,
    "transposed": 2,
    "fused": 3,
    "custom": 3,
    "nn": 4,
    "interop": 5,
    "optimize": 5,
    "check": 6,
    "bench": 6,
    "cli": 7,
    "__main__": 8,
    "__init__": 9,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["tconv", *parts])


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(path: Path) -> set[str]:
    """The tconv modules (or packages) ``path`` imports, absolute; ``from X import name`` counts
    as ``X.name`` when that is a module, else ``X``."""
    name = module_name(path)
    package = name if is_package(path) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("tconv"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("tconv"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
    return found - {name}


PATHS = sorted(ROOT.rglob("*.py"))
MODULES = {module_name(path): path for path in PATHS}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def test_every_top_level_room_has_a_layer():
    rooms = {module.split(".")[1] for module in MODULES if module != "tconv"}
    assert rooms <= set(LAYERS), sorted(rooms - set(LAYERS))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_from_a_layer_above(module):
    upward = [target for target in imports(MODULES[module]) if layer(target) > layer(module)]
    assert not upward, f"{module} (layer {layer(module)}) imports from above: {upward}"


def test_fused_and_custom_do_not_import_each_other():
    for module, path in MODULES.items():
        family = module.split(".")[1] if "." in module else ""
        other = {"fused": "custom", "custom": "fused"}.get(family)
        if other:
            assert not [t for t in imports(path) if t.split(".")[1:2] == [other]], module


def test_fused_reaches_transposed_only_through_its_dispatcher():
    """The fused family asks the transposed family's dispatcher (the package) for its core, never
    a concrete algorithm or the public entry functions."""
    for module, path in MODULES.items():
        if module.startswith("tconv.fused"):
            reached = {t for t in imports(path) if t.startswith("tconv.transposed")}
            assert reached <= {"tconv.transposed", "tconv.transposed.plan"}, (module, reached)


def test_no_import_cycle():
    graph = {module: {t for t in imports(path) if t in MODULES} for module, path in MODULES.items()}
    # a package's __init__ may be imported by its own modules' relative imports implicitly; only
    # explicit edges count, and a package importing its own submodules is the usual direction
    visiting, done = [], set()

    def visit(module):
        if module in done:
            return
        if module in visiting:
            cycle = visiting[visiting.index(module) :] + [module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
