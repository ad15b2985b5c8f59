"""PyTorch's semantics where chainrule uses its names: derivatives at the edges, checked
assignments, set_grad_enabled, transpose/permute and the default dtype. Each is compared
with PyTorch when it is installed and checked against the stated rule either way."""

import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def leaf(a, dtype=np.float64):
    return cr.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def tleaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------- derivatives at the edges
def test_x_to_the_zero_has_gradient_zero_at_zero():
    x = leaf([0.0, 1.5, -2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    x, b = leaf([0.0, 1.5]), leaf([0.0, 0.0])
    (x ** b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x = leaf([0.0, 2.0])
    (gx,) = cr.grad((x ** np.zeros(2)).sum(), x, create_graph=True)  # an array exponent
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.0])


@needs_torch
def test_x_to_the_zero_matches_pytorch():
    for exponent in (0, 0.0):
        x, tx = leaf([0.0, 1.5]), tleaf([0.0, 1.5])
        (x ** exponent).sum().backward()
        (tx ** exponent).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def _clamp_values():
    return [-2.0, -0.5, 0.3, 1.7, 2.5], [-1.0, -1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0, 2.0]


def test_clamp_with_tensor_bounds_sends_gradients_to_the_bounds():
    xv, lov, hiv = _clamp_values()
    x, lo, hi = leaf(xv), leaf(lov), leaf(hiv)
    y = cr.clamp(x, lo, hi)
    np.testing.assert_array_equal(y.numpy(), np.clip(xv, lov, hiv))
    (y * cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    # x below lo: to lo; within [lo, hi]: to x; above hi: to hi
    np.testing.assert_array_equal(x.grad.numpy(), [0, 2, 3, 0, 0])
    np.testing.assert_array_equal(lo.grad.numpy(), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0, 0, 0, 4, 5])
    x2 = leaf(xv)
    x2.clip(min=lo).sum().backward()  # one tensor bound, the other missing
    np.testing.assert_array_equal(x2.grad.numpy(), [0, 1, 1, 1, 1])


@needs_torch
def test_clamp_with_tensor_bounds_matches_pytorch():
    xv, lov, hiv = _clamp_values()
    ours, theirs = [leaf(v) for v in (xv, lov, hiv)], [tleaf(v) for v in (xv, lov, hiv)]
    w = np.arange(1.0, 6.0)
    (cr.clamp(*ours) * w).sum().backward()
    (torch.clamp(*theirs) * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("values, expected", [
    ([-np.inf, -np.inf], -np.inf), ([1.0, np.inf], np.inf), ([np.inf, np.inf], np.inf),
])
def test_logsumexp_of_infinities(values, expected):
    with np.errstate(all="ignore"):
        out = cr.logsumexp(cr.tensor(values)).item()
    assert out == expected
    if torch is not None:
        assert torch.logsumexp(torch.tensor(values), 0).item() == expected


def test_max_and_min_with_nan_send_the_gradient_to_the_nan():
    for name in ("max", "min"):
        x = leaf([1.0, np.nan, 3.0])
        y = getattr(x, name)()
        assert np.isnan(y.item())
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
        if torch is not None:
            tx = tleaf([1.0, np.nan, 3.0])
            getattr(tx, name)().backward()
            np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    x = leaf([[1.0, np.nan], [2.0, 0.5]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])


def test_gradients_keep_their_tensor_s_dtype_on_every_path():
    x = leaf([0.5, 1.5], np.float32)
    (g,) = cr.grad((x * np.array([2.0, 3.0])).sum(), x, create_graph=True)  # float64 array
    assert g.dtype == np.float32
    (g,) = cr.grad((2.0 ** x).sum(), x, create_graph=True)  # a Python-number base
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), 2.0 ** x.numpy() * np.log(2.0), rtol=1e-6)
    (g,) = cr.grad((np.float64(2.0) ** x).sum(), x)
    assert g.dtype == np.float32
    h = x * 1.0
    h.retain_grad()
    (h * np.array([1.0, 2.0])).sum().backward()  # a float64 constant downstream
    assert h.grad.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(h.grad.numpy(), [1.0, 2.0])


# ---------------------------------------------------------------- checked assignments
def test_requires_grad_assignment_is_validated_like_requires_grad_():
    t = cr.tensor([1, 2])
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    assert not t.requires_grad
    f = cr.tensor([1.0, 2.0])
    f.requires_grad = True
    assert f.requires_grad and (f * 2).requires_grad
    with pytest.raises(cr.BackwardError, match="detach"):
        (f * 2).requires_grad = False
    f.requires_grad = False
    assert not (f * 2).requires_grad
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.tensor([1, 2]).requires_grad = True


def test_grad_setter_checks_shape_and_dtype():
    w = leaf([1.0, 2.0])
    with pytest.raises(cr.ShapeError, match=r"shape \(2,\).*\(3,\)"):
        w.grad = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="dtype float64.*float32"):
        w.grad = cr.tensor(np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match="Tensor or None"):
        w.grad = np.ones(2)
    w.grad = cr.tensor([0.5, 0.5])
    opt = cr.optim.SGD([w], lr=1.0)
    opt.step()
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5])
    w.grad = None
    assert w.grad is None


# ----------------------------------------------------------------------------- names
def test_set_grad_enabled_as_a_plain_call_switches_grad_mode():
    x = leaf([1.0])
    try:
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled() and not (x * 2).requires_grad
        cr.set_grad_enabled(True)
        assert cr.is_grad_enabled() and (x * 2).requires_grad
        with cr.set_grad_enabled(False):
            assert not cr.is_grad_enabled()
        assert cr.is_grad_enabled()

        @cr.set_grad_enabled(False)
        def f(t):
            return t * 3

        assert cr.is_grad_enabled()  # decorating switches nothing
        assert not f(x).requires_grad and cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)


def test_transpose_of_two_axes_swaps_them_as_pytorch():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(cr.tensor(a).transpose(0, 1).numpy(), a.T)
    np.testing.assert_array_equal(cr.tensor(a).transpose(1, 0).numpy(), a.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(cr.tensor(b).transpose(0, 2).numpy(), b.swapaxes(0, 2))
    np.testing.assert_array_equal(cr.tensor(b).transpose((2, 0, 1)).numpy(),
                                  b.transpose(2, 0, 1))  # a tuple permutes, as NumPy
    np.testing.assert_array_equal(cr.transpose(cr.tensor(a), (0, 1)).numpy(), a)
    if torch is not None:
        np.testing.assert_array_equal(cr.tensor(a).transpose(0, 1).numpy(),
                                      torch.tensor(a).transpose(0, 1).numpy())
        np.testing.assert_array_equal(cr.tensor(b).transpose(-1, 0).numpy(),
                                      torch.tensor(b).transpose(-1, 0).numpy())


def test_permute_needs_a_full_permutation():
    b = cr.tensor(np.arange(24.0).reshape(2, 3, 4))
    for dims in [(0, 1), (1,), (0, 1, 1), (0, 1, 2, 3)]:
        with pytest.raises(ValueError, match="permutation"):
            b.permute(*dims)
        if torch is not None:
            with pytest.raises(RuntimeError):
                torch.zeros(2, 3, 4).permute(*dims)
    np.testing.assert_array_equal(b.permute(2, 0, 1).numpy(), b.numpy().transpose(2, 0, 1))
    np.testing.assert_array_equal(b.permute((1, 2, 0)).numpy(), b.numpy().transpose(1, 2, 0))


# ------------------------------------------------------------------------ default dtype
@pytest.fixture
def float32_default():
    cr.set_default_dtype(np.float32)
    try:
        yield
    finally:
        cr.set_default_dtype(np.float64)


def test_default_dtype_is_float64():
    assert cr.get_default_dtype() == np.float64
    assert cr.tensor([1.0]).dtype == np.float64 and cr.zeros(2).dtype == np.float64


def test_default_dtype_float32_is_followed(float32_default):
    assert cr.get_default_dtype() == np.float32
    made = [cr.tensor([1.0, 2.0]), cr.tensor(0.5), cr.zeros(2), cr.ones(2, 2), cr.eye(2),
            cr.randn(3, seed=0), cr.rand(3, seed=0), cr.linspace(0, 1, 5), cr.full((2,), 1.5),
            cr.arange(0.0, 1.0, 0.25)]
    assert [t.dtype for t in made] == [np.float32] * len(made)
    assert cr.tensor([1, 2]).dtype == np.int64  # ints stay ints
    assert cr.tensor(np.array([1.0])).dtype == np.float64  # an array keeps its dtype
    assert cr.zeros(2, dtype=np.float64).dtype == np.float64
    net = cr.nn.Linear(3, 2)
    assert net.weight.dtype == np.float32 and net.bias.dtype == np.float32
    cr.nn.init.xavier_uniform_(net.weight, seed=0)
    assert net.weight.dtype == np.float32
    loss = net(cr.randn(4, 3, seed=1)).sum()
    assert loss.dtype == np.float32
    loss.backward()
    assert net.weight.grad.dtype == np.float32
    if torch is not None:
        torch.set_default_dtype(torch.float32)
        assert torch.tensor([1.0]).dtype == torch.float32  # the same rule


def test_set_default_dtype_refuses_non_floats():
    for bad in (np.int64, "int32", bool, "nonsense"):
        with pytest.raises(TypeError, match="float16, float32 or float64"):
            cr.set_default_dtype(bad)
    assert cr.get_default_dtype() == np.float64
