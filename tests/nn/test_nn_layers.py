"""Layers against NumPy: Linear's layout y = x Wᵀ + b and the activations."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_linear_is_x_w_transpose_plus_b_with_pytorch_layout(on):
    lin = nn.Linear(3, 2, generator=np.random.default_rng(0), device=on.device)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    W, b = on.host(lin.weight), on.host(lin.bias)
    x = np.random.default_rng(1).normal(size=(5, 3))
    y = on.host(lin(on.tensor(x)))
    np.testing.assert_allclose(y, x @ W.T + b, rtol=1e-15)
    # the text's y_j = sum_i w_ji x_i: weight[j, i] is w_ji
    j, i = 1, 2
    e = np.zeros((1, 3))
    e[0, i] = 1.0
    assert on.host(lin(on.tensor(e)))[0, j] == pytest.approx(W[j, i] + b[j])


def test_linear_gradients_match_closed_form(on):
    lin = nn.Linear(3, 2, generator=np.random.default_rng(0), device=on.device)
    x = on.tensor(np.random.default_rng(1).normal(size=(4, 3)), requires_grad=True)
    g = np.random.default_rng(2).normal(size=(4, 2))
    lin(x).backward(on.tensor(g))
    np.testing.assert_allclose(on.host(lin.weight.grad), g.T @ on.host(x), rtol=1e-13)
    np.testing.assert_allclose(on.host(lin.bias.grad), g.sum(0), rtol=1e-13)
    np.testing.assert_allclose(on.host(x.grad), g @ on.host(lin.weight), rtol=1e-13)


def test_linear_init_is_seeded_and_bounded(on):
    a = nn.Linear(50, 40, generator=np.random.default_rng(5), device=on.device)
    b = nn.Linear(50, 40, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(on.host(a.weight), b.weight.numpy())  # on every device
    bound = 1 / np.sqrt(50)
    w = np.abs(on.host(a.weight))
    assert w.max() <= bound and w.max() > 0.9 * bound
    nn.init.manual_seed(3)
    c = nn.Linear(4, 4, device=on.device)
    nn.init.manual_seed(3)
    np.testing.assert_array_equal(on.host(c.weight), nn.Linear(4, 4).weight.numpy())


def test_linear_without_bias_and_dtype(on):
    lin = nn.Linear(2, 3, bias=False, dtype=np.float32, device=on.device)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin(on.tensor(np.ones((1, 2), np.float32))).dtype == np.float32
    assert on.host(lin.weight).dtype == np.float32
    assert "bias=False" in repr(lin)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(bad, 2)


def test_linear_wrong_input_width_names_both_sizes(on):
    with pytest.raises(cr.ShapeError, match="input has 4 features.*expects 3"):
        nn.Linear(3, 2, device=on.device)(on.tensor(np.ones((2, 4))))


@pytest.mark.parametrize(
    "layer, ref",
    [
        (nn.Tanh(), np.tanh),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        (nn.Softmax(dim=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    ],
)
def test_activation_layers_match_numpy(layer, ref, on):
    x = np.random.default_rng(0).normal(size=(4, 5)) * 3
    np.testing.assert_allclose(on.host(layer(on.tensor(x))), ref(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layer", [nn.Tanh(), nn.ReLU(), nn.Sigmoid(), nn.Softmax()],
                         ids=repr)
def test_activation_layers_have_gradients(layer, on):
    x = on.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    assert cr.gradcheck(lambda x: (layer(x) * x).sum(), [x])


def test_tanh_derivative_is_one_minus_tanh_squared(on):
    x = on.tensor(np.linspace(-3, 3, 13), requires_grad=True)
    y = nn.Tanh()(x)
    y.sum().backward()
    np.testing.assert_allclose(on.host(x.grad), 1 - on.host(y) ** 2, rtol=1e-14)
