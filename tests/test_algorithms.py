"""Every algorithm of every family against its family's independent float64 reference.

Generated from the declarations: for each algorithm and each dtype it declares it runs, problems
are drawn from the family's generator restricted to what the algorithm runs
(:meth:`tconv.core.testing.FamilyTests.draw`): :data:`COUNT` of them, :data:`COMPILED_COUNT` for
the algorithms that compile a kernel per problem (seconds each). Each is compared forward and,
in most variants, with gradients; the variants also put some inputs channels-last and run some
without gradients (the inference paths). The tolerance comes from the dtype's precision and the
problem's longest sum (:func:`tconv.core.testing.tolerance`).
"""

import pytest
import torch

import tconv
from tconv.check import FAMILIES, UNCHECKED
from tconv.core.testing import tolerance

COUNT = 100
COMPILED_COUNT = 20


def _declared() -> list[tuple]:
    """Every (family, algorithm, dtype) to test; raises if an algorithm runs nothing at all."""
    with_compiling = tconv.core.compiling.compile_enabled()
    tconv.set_compile(True)  # collection: what the compiled algorithms declare when compiling is on
    try:
        triples = []
        for family in FAMILIES:
            for name in family.algorithms:
                if name in UNCHECKED:
                    continue
                dtypes = [dtype for dtype in family.dtypes if family.declares(name, dtype)]
                if not dtypes:
                    raise LookupError(f"{family.name} {name}: runs none of the family's random problems in any dtype")
                triples += [(family, name, dtype) for dtype in dtypes]
        return triples
    finally:
        tconv.set_compile(with_compiling)


DECLARED = _declared()


def _id(triple) -> str:
    family, name, dtype = triple
    return f"{family.name}-{name}-{str(dtype).removeprefix('torch.')}"


def test_every_algorithm_of_every_family_is_tested():
    tested = {(family.name, name) for family, name, _ in DECLARED}
    every = {(family.name, name) for family in FAMILIES for name in family.algorithms if name not in UNCHECKED}
    assert tested == every


def test_every_algorithm_that_compiles_nothing_runs_float32_and_float64():
    """A generator or a declaration that loses one of them fails here."""
    declared = {(family.name, name, dtype) for family, name, dtype in DECLARED}
    for family in FAMILIES:
        for name, algorithm in family.algorithms.items():
            if name not in UNCHECKED and not algorithm.compiles:
                assert (family.name, name, torch.float32) in declared, (family.name, name)
                assert (family.name, name, torch.float64) in declared, (family.name, name)


@pytest.fixture
def compiling_for(request):
    """Compiling on for an algorithm that compiles (the suite runs with it off)."""
    family, name, _ = request.param
    compiles = family.algorithms[name].compiles
    if compiles:
        tconv.set_compile(True)
    yield request.param
    if compiles:
        tconv.set_compile(False)


@pytest.mark.parametrize("compiling_for", DECLARED, ids=_id, indirect=True)
def test_against_the_reference(compiling_for):
    family, name, dtype = compiling_for
    count = COMPILED_COUNT if family.algorithms[name].compiles else COUNT
    cases = family.draw(name, dtype, count, seed=19)
    assert len(cases) == count
    failures = []
    for index, (case, variant) in enumerate(cases):
        comparison = family.compare_with_reference(case, name, dtype, seed=index, **variant)
        if not comparison.passed:
            failures.append(f"{comparison} [{variant}]")
    assert not failures, f"{len(failures)} of {count} over tolerance:\n" + "\n".join(failures[:10])


def test_the_tolerance_grows_with_the_sum_and_the_dtype():
    assert tolerance(torch.float64, 1) < tolerance(torch.float32, 1) < tolerance(torch.float16, 1)
    assert tolerance(torch.float16, 1) < tolerance(torch.bfloat16, 1)
    assert tolerance(torch.float32, 1) < tolerance(torch.float32, 100) < tolerance(torch.float32, 10_000)
    # the half types accumulate in float32: a long sum adds little to their rounding
    assert tolerance(torch.bfloat16, 10_000) < 1.1 * tolerance(torch.bfloat16, 1)
