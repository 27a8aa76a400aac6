"""The window model, on hand-computed cases and as properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tconv.core.geometry import AxisWindow, Pads, Same, axis_window, full_length, legal_output_sizes, parse_padding


@pytest.mark.parametrize(
    "size, kernel, stride, dilation, output_padding, rule, output_size, expected",
    [
        # torch padding=1, output_padding=1: L = 11, n = 11 + 1 - 2, b = 1
        (5, 3, 2, 1, 1, Pads(1, 1), None, AxisWindow(11, 1, 10)),
        # SAME with an odd total: the extra sample is cropped at the end (upper) or start (lower)
        (5, 3, 2, 1, 0, Same(), None, AxisWindow(11, 0, 10)),
        (5, 3, 2, 1, 0, Same(lower=True), None, AxisWindow(11, 1, 10)),
        (5, 4, 2, 1, 0, Same(), None, AxisWindow(12, 1, 10)),
        (5, 5, 2, 1, 0, Same(), None, AxisWindow(13, 1, 10)),
        (5, 5, 2, 1, 0, Same(lower=True), None, AxisWindow(13, 2, 10)),
        # SAME with output_padding: the crop shrinks by op
        (5, 4, 2, 1, 1, Same(), None, AxisWindow(12, 1, 10)),
        (5, 5, 2, 1, 1, Same(), None, AxisWindow(13, 2, 10)),
        # stride > kernel: nothing to crop, the window runs past the full output into zeros
        (4, 1, 3, 1, 0, Same(), None, AxisWindow(10, 0, 12)),
        # dilation: ke = 5
        (3, 3, 2, 2, 0, Same(), None, AxisWindow(9, 1, 6)),
        # explicit output sizes
        (5, 3, 2, 1, 0, Same(), 9, AxisWindow(11, 1, 9)),
        (5, 3, 2, 1, 0, Pads(0, 0), 12, AxisWindow(11, 0, 12)),
        (5, 3, 2, 1, 0, Pads(2, 1), 8, AxisWindow(11, 2, 8)),
        (5, 3, 2, 1, 0, Pads(0, 3), None, AxisWindow(11, 0, 8)),
    ],
)
def test_hand_computed_windows(size, kernel, stride, dilation, output_padding, rule, output_size, expected):
    assert axis_window(size, kernel, stride, dilation, output_padding, rule, output_size) == expected


def test_legal_output_sizes():
    # SAME: any crop of the full output (ONNX), or up to i*s (TF: (i-1)s+1 ... i*s); VALID: L ... L+s-1
    assert legal_output_sizes(5, 3, 2, 1, Same()) == range(1, 12)
    assert legal_output_sizes(5, 3, 2, 1, Same(), output_padding=1) == range(1, 13)
    assert legal_output_sizes(4, 1, 3, 1, Same()) == range(1, 13)
    assert legal_output_sizes(5, 3, 2, 1, Pads(0, 0)) == range(11, 13)
    assert legal_output_sizes(5, 3, 2, 1, Pads(1, 2)) == range(8, 10)
    # dilation beyond stride allows as much as output_padding does
    assert legal_output_sizes(5, 3, 1, 3, Pads(0, 0)) == range(11, 14)


def test_parse_padding_vocabulary():
    assert parse_padding(1, 2) == (Pads(1, 1), Pads(1, 1))
    assert parse_padding((1, 2), 2) == (Pads(1, 1), Pads(2, 2))
    assert parse_padding(((0, 1), 2), 2) == (Pads(0, 1), Pads(2, 2))
    assert parse_padding("VALID", 1) == (Pads(0, 0),)
    assert parse_padding("same", 1) == parse_padding("same_upper", 1) == (Same(),)
    assert parse_padding("same_lower", 3) == (Same(lower=True),) * 3


axis_problems = st.tuples(
    st.integers(1, 9), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3), st.booleans()
).flatmap(lambda t: st.tuples(st.just(t), st.integers(0, max(t[2], t[3]) - 1)))


@given(axis_problems)
def test_same_window_properties(problem):
    (size, kernel, stride, dilation, lower), output_padding = problem
    full = full_length(size, kernel, stride, dilation)
    window = axis_window(size, kernel, stride, dilation, output_padding, Same(lower=lower))
    assert window.length == size * stride
    total = max(0, full + output_padding - window.length)
    cropped_end = full + output_padding - window.end
    assert window.begin + max(cropped_end, 0) == total or cropped_end < 0
    assert window.begin - max(cropped_end, 0) in ((1, 0) if lower else (0, -1))
    for n in legal_output_sizes(size, kernel, stride, dilation, Same(lower=lower), output_padding):
        assert axis_window(size, kernel, stride, dilation, output_padding, Same(lower=lower), n).length == n


@given(axis_problems, st.integers(0, 3), st.integers(0, 3))
def test_pads_window_properties(problem, begin, end):
    (size, kernel, stride, dilation, _), output_padding = problem
    full = full_length(size, kernel, stride, dilation)
    if full + output_padding - begin - end < 1:
        with pytest.raises(ValueError, match="padding"):
            axis_window(size, kernel, stride, dilation, output_padding, Pads(begin, end))
        return
    window = axis_window(size, kernel, stride, dilation, output_padding, Pads(begin, end))
    assert (window.begin, window.length) == (begin, full + output_padding - begin - end)
    assert window.length in legal_output_sizes(size, kernel, stride, dilation, Pads(begin, end))
