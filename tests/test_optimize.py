"""``tconv.optimize``: what it rewrites, what it leaves and why, and that the result is the same
model (outputs and gradients in float64, shared parameters, state_dict keys, training)."""

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import tconv
from tconv.core.testing import relative_error
from tconv.optimize import model_tolerance

F64 = dict(dtype=torch.float64)


class Decoder(nn.Module):
    """Every pattern: module and functional upsampling, nearest and bilinear, pooling by module and
    function, transposed convolutions by module and function."""

    def __init__(self, c=8, ndim=2):
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[ndim]
        deconv = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[ndim]
        self.ndim = ndim
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv1 = conv(c, c, 3, padding=1)
        self.conv2 = conv(c, c, 3, padding=1, padding_mode="reflect")
        self.pool = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[ndim](2)
        self.deconv = deconv(c, c, 4, 2, 1)
        self.conv3 = conv(c, c, 3, padding=1)
        self.conv4 = conv(c, c, 3, padding=1, groups=2)
        self.w = nn.Parameter(torch.randn(c, c, *(2,) * ndim) * 0.1)

    def forward(self, x):
        x = F.relu(self.conv1(self.up(x)))
        x = self.pool(self.conv2(x))
        x = self.deconv(x)
        linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[self.ndim]
        x = self.conv3(F.interpolate(x, scale_factor=2, mode=linear, align_corners=False))
        x = getattr(F, f"avg_pool{self.ndim}d")(self.conv4(x), 2)
        return getattr(F, f"conv_transpose{self.ndim}d")(x, self.w, None, 2)


def _grads(model, x):
    out = model(x)
    return out, torch.autograd.grad(out.square().sum(), [x, *model.parameters()])


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_decoder_same_outputs_and_gradients(ndim):
    torch.manual_seed(0)
    model = Decoder(ndim=ndim).to(torch.float64)
    x = torch.randn(2, 8, *(6,) * ndim, **F64, requires_grad=True)
    optimized, report = tconv.optimize(model, x, report=True)
    assert len(report.rewritten) == 6 and not report.skipped, report
    kinds = {type(m).__name__ for m in optimized.modules()}
    assert {f"UpsampleConv{ndim}d", f"ConvPool{ndim}d", f"ConvTranspose{ndim}d"} <= kinds
    assert not kinds & {f"Conv{ndim}d", "Upsample", f"AvgPool{ndim}d"}  # all fused
    expected, expected_grads = _grads(model, x)
    actual, actual_grads = _grads(optimized, x)
    assert relative_error(actual, expected) < 1e-12
    for a, e in zip(actual_grads, expected_grads):
        assert relative_error(a, e) < 1e-12


def test_parameters_are_shared_and_train_together():
    torch.manual_seed(0)
    model = Decoder()
    optimized = tconv.optimize(model)
    assert list(optimized.state_dict()) == list(model.state_dict())
    assert all(a is b for a, b in zip(optimized.parameters(), model.parameters()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # built on the original
    x = torch.randn(2, 8, 6, 6)
    before = model(x).detach()
    optimized(x).square().mean().backward()
    optimizer.step()
    assert not torch.equal(model(x), before)
    # two float32 computations of the same function, each within the model's tolerance of the exact one
    assert relative_error(optimized(x), model(x)) <= 2 * model_tolerance(optimized, torch.float32)
    optimized.load_state_dict(copy.deepcopy(model.state_dict()))


class Skips(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.strided = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.ceil = nn.AvgPool2d(2, ceil_mode=True)
        self.shared = nn.Conv2d(4, 4, 1)
        self.sized = nn.Upsample(size=(10, 10))

    def forward(self, x):
        a = self.conv(self.act(self.up(x)))  # a nonlinearity in between
        b = self.strided(self.up(x))  # stride 2 after upsampling
        c = self.ceil(self.conv(x))  # ceil_mode pooling
        s = self.shared(x)
        d = F.avg_pool2d(s, 2) + s.mean()  # the convolution's output has another user
        e = self.conv(self.sized(x))  # a fixed size
        return a.mean() + b.mean() + c.mean() + d.mean() + e.mean()


def test_skipped_patterns_say_why():
    model = Skips()
    x = torch.randn(1, 4, 5, 5)
    optimized, report = tconv.optimize(model, x, report=True)
    assert not report.rewritten
    text = str(report)
    assert "the upsampling feeds act, not a convolution" in text
    assert "stride 2" in text or "stride=(2, 2)" in text
    assert "ceil_mode" in text
    assert "other users" in text
    assert "size" in text
    torch.testing.assert_close(optimized(x), model(x))


def test_untraceable_model_is_returned_unchanged_with_the_reason():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.deconv = nn.ConvTranspose2d(2, 2, 2, 2)

        def forward(self, x):
            return self.deconv(x) if x.sum() > 0 else x

    model = Branchy()
    with pytest.warns(UserWarning, match="not traceable by torch.fx"):
        optimized, report = tconv.optimize(model, report=True)
    assert optimized is model and report.untraceable and "returned unchanged" in str(report)


def test_check_catches_a_difference(monkeypatch):
    model = Decoder()
    x = torch.randn(1, 8, 6, 6)
    forward = tconv.nn.ConvPool2d.forward
    monkeypatch.setattr(tconv.nn.ConvPool2d, "forward", lambda self, input: forward(self, input) + 1e-3)
    with pytest.raises(RuntimeError, match="differs from the original"):
        tconv.optimize(model, x)
    tconv.optimize(model, x, check=False)


def test_check_leaves_buffers_and_random_state_alone():
    model = nn.Sequential(
        nn.Upsample(scale_factor=2), nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Dropout(0.5)
    )
    before = copy.deepcopy(model.state_dict())
    x = torch.randn(2, 3, 4, 4)
    rng = torch.random.get_rng_state()
    optimized, report = tconv.optimize(model, x, report=True)
    assert report.rewritten == ["_0 + _1 -> UpsampleConv2d (1)"]
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])
    assert torch.equal(torch.random.get_rng_state(), rng)


def test_bad_model():
    with pytest.raises(TypeError, match="model: expected a torch.nn.Module"):
        tconv.optimize(lambda x: x)


def test_no_warnings_and_nothing_to_do():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimized, report = tconv.optimize(nn.Linear(3, 3), torch.randn(2, 3), report=True)
    assert str(report) == "nothing to rewrite"
