"""Layers against NumPy: Linear's layout y = x Wᵀ + b and the activations."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_linear_is_x_w_transpose_plus_b_with_pytorch_layout():
    lin = nn.Linear(3, 2, generator=np.random.default_rng(0))
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = np.random.default_rng(1).normal(size=(5, 3))
    y = lin(cr.tensor(x)).numpy()
    np.testing.assert_allclose(y, x @ lin.weight.data.T + lin.bias.data, rtol=1e-15)
    # the text's y_j = sum_i w_ji x_i: weight[j, i] is w_ji
    j, i = 1, 2
    e = np.zeros((1, 3))
    e[0, i] = 1.0
    want = lin.weight.data[j, i] + lin.bias.data[j]
    assert lin(cr.tensor(e)).numpy()[0, j] == pytest.approx(want)


def test_linear_gradients_match_closed_form():
    lin = nn.Linear(3, 2, generator=np.random.default_rng(0))
    x = cr.tensor(np.random.default_rng(1).normal(size=(4, 3)), requires_grad=True)
    g = np.random.default_rng(2).normal(size=(4, 2))
    lin(x).backward(cr.tensor(g))
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-13)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), g @ lin.weight.data, rtol=1e-13)


def test_linear_init_is_seeded_and_bounded():
    a = nn.Linear(50, 40, generator=np.random.default_rng(5))
    b = nn.Linear(50, 40, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / np.sqrt(50)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.weight.data).max() > 0.9 * bound
    nn.init.manual_seed(3)
    c = nn.Linear(4, 4)
    nn.init.manual_seed(3)
    np.testing.assert_array_equal(c.weight.data, nn.Linear(4, 4).weight.data)


def test_linear_without_bias_and_dtype():
    lin = nn.Linear(2, 3, bias=False, dtype=np.float32)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin(cr.tensor(np.ones((1, 2), np.float32))).dtype == np.float32
    assert "bias=False" in repr(lin)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(bad, 2)


def test_linear_wrong_input_width_names_both_sizes():
    with pytest.raises(cr.ShapeError, match="input has 4 features.*expects 3"):
        nn.Linear(3, 2)(cr.tensor(np.ones((2, 4))))


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
def test_activation_layers_match_numpy(layer, ref):
    x = np.random.default_rng(0).normal(size=(4, 5)) * 3
    np.testing.assert_allclose(layer(cr.tensor(x)).numpy(), ref(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layer", [nn.Tanh(), nn.ReLU(), nn.Sigmoid(), nn.Softmax()],
                         ids=repr)
def test_activation_layers_have_gradients(layer):
    x = cr.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    assert cr.gradcheck(lambda x: (layer(x) * x).sum(), [x])


def test_tanh_derivative_is_one_minus_tanh_squared():
    x = cr.tensor(np.linspace(-3, 3, 13), requires_grad=True)
    y = nn.Tanh()(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - y.numpy() ** 2, rtol=1e-14)
