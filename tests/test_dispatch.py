"""The dispatcher: auto choice, forcing by name, and the reasons listed when nothing fits."""

import dataclasses

import pytest
import torch

import tconv
from tconv import algorithms
from tconv.plan import plan_conv_transpose

PLAN = plan_conv_transpose((1, 2, 5, 5), (2, 3, 3, 3), stride=2, padding="same")


def test_auto_picks_a_fast_algorithm_not_the_reference():
    assert algorithms.select(PLAN).name == "native"
    assert all(not why for why in algorithms.reasons(PLAN).values())


def test_every_algorithm_is_declared():
    for name, algorithm in algorithms.ALGORITHMS.items():
        assert algorithm.name == name and algorithm.description
        assert algorithm.why_not(PLAN) == []


def test_forcing_an_incapable_algorithm_lists_its_reasons():
    plan = dataclasses.replace(PLAN, device_type="xla")
    with pytest.raises(tconv.NoAlgorithmError, match=r"algorithm: 'native' cannot run this problem: device type 'xla'"):
        algorithms.select(plan, "native")


def test_no_capable_algorithm_lists_every_algorithm():
    plan = dataclasses.replace(PLAN, device_type="xla")
    with pytest.raises(ValueError, match=r"no algorithm can run this problem \(native: device type 'xla'.*; reference: device type 'xla'"):
        algorithms.select(plan)


def test_forced_reference_matches_native():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3)
    torch.testing.assert_close(
        tconv.conv_transpose2d(x, w, stride=2, padding="same", algorithm="reference"),
        tconv.conv_transpose2d(x, w, stride=2, padding="same", algorithm="native"),
    )
