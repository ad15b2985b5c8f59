"""The text's closed forms (Bishop PRML §5.3), checked exactly against the engine.

eq. 5.2   y_j = Σ_i w_ji x_i            ⇒  ∂y_j/∂x_i = w_ji
eq. 5.7   f(h) = tanh(h)                ⇒  f'(h) = 1 − f(h)²
eqs. 5.9–5.12, a two-layer net with tanh hidden units, linear outputs and
E = ½ Σ_k (y_k − ŷ_k)²:
   δ_k = y_k − ŷ_k,   ∂E/∂w_kj = δ_k z_j,   δ_j = (1 − z_j²) Σ_k w_kj δ_k,   ∂E/∂w_ji = δ_j x_i
"""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_eq_5_2_linear_unit_jacobian_is_the_weights(rng):
    W = rng.standard_normal((4, 3))  # w_ji: output j, input i
    x = cr.tensor(rng.standard_normal(3), requires_grad=True)
    y = cr.tensor(W) @ x
    for j in range(4):
        seed = np.zeros(4)
        seed[j] = 1.0
        (dy_j_dx,) = cr.grad(y, x, grad_outputs=seed, retain_graph=True)
        np.testing.assert_array_equal(dy_j_dx.numpy(), W[j])  # ∂y_j/∂x_i = w_ji


def test_eq_5_2_with_the_weights_as_variables(rng):
    # and, symmetrically, ∂y_j/∂w_ji = x_i (zero for the other rows)
    x = rng.standard_normal(3)
    W = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = W @ x
    for j in range(4):
        seed = np.zeros(4)
        seed[j] = 1.0
        (g,) = cr.grad(y, W, grad_outputs=seed, retain_graph=True)
        expected = np.zeros((4, 3))
        expected[j] = x
        np.testing.assert_array_equal(g.numpy(), expected)


def test_eq_5_7_tanh_derivative(rng):
    h = cr.tensor(rng.uniform(-4, 4, size=(5, 7)), requires_grad=True)
    f = cr.tanh(h)
    f.backward(np.ones(f.shape))
    np.testing.assert_allclose(h.grad.numpy(), 1 - np.tanh(h.numpy()) ** 2, rtol=1e-15,
                               atol=0)
    # and the second derivative, f'' = −2 f (1 − f²)
    h.grad = None
    (d1,) = cr.grad(cr.tanh(h).sum(), h, create_graph=True)
    (d2,) = cr.grad(d1.sum(), h)
    t = np.tanh(h.numpy())
    np.testing.assert_allclose(d2.numpy(), -2 * t * (1 - t**2), rtol=1e-13, atol=1e-15)


def _by_hand(x, t, W1, b1, W2, b2):
    """Eqs. 5.9–5.12 in NumPy for a batch x (N, D): returns E and its gradients, summed
    over the points (each row is one point; the sums over n are the text's Σ_n)."""
    a = x @ W1.T + b1  # a_j = Σ_i w_ji x_i (+ bias)
    z = np.tanh(a)  # z_j = h(a_j)
    y = z @ W2.T + b2  # y_k = Σ_j w_kj z_j (+ bias), linear outputs
    E = 0.5 * np.sum((y - t) ** 2)
    delta_k = y - t  # (5.10)
    dW2 = delta_k.T @ z  # ∂E/∂w_kj = δ_k z_j (5.11)
    delta_j = (1 - z**2) * (delta_k @ W2)  # δ_j = (1 − z_j²) Σ_k w_kj δ_k (5.12)
    dW1 = delta_j.T @ x  # ∂E/∂w_ji = δ_j x_i
    return E, dW1, delta_j.sum(0), dW2, delta_k.sum(0)  # biases: weights on a constant 1


def _engine(x, t, W1, b1, W2, b2):
    params = [cr.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    w1, c1, w2, c2 = params
    z = cr.tanh(cr.tensor(x) @ w1.T + c1)
    y = z @ w2.T + c2
    E = 0.5 * ((y - t) ** 2).sum()
    E.backward()
    return (E.item(), *(p.grad.numpy() for p in params))


@pytest.mark.parametrize("n_points", [1, 16])
def test_eqs_5_9_to_5_12_two_layer_tanh_net(rng, n_points):
    D, M, K = 3, 5, 2
    x = rng.standard_normal((n_points, D))
    t = rng.standard_normal((n_points, K))
    W1, b1 = rng.standard_normal((M, D)), rng.standard_normal(M)
    W2, b2 = rng.standard_normal((K, M)), rng.standard_normal(K)
    expected = _by_hand(x, t, W1, b1, W2, b2)
    got = _engine(x, t, W1, b1, W2, b2)
    for name, e, g in zip(["E", "dW1", "db1", "dW2", "db2"], expected, got):
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-12, err_msg=name)


def test_two_layer_net_single_point_as_vectors(rng):
    # one point as 1-D vectors, exactly the text's index notation (no batch axis)
    x, t = rng.standard_normal(3), rng.standard_normal(2)
    W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    w1 = cr.tensor(W1, requires_grad=True)
    w2 = cr.tensor(W2, requires_grad=True)
    E = 0.5 * ((w2 @ cr.tanh(w1 @ x) - t) ** 2).sum()
    E.backward()
    z = np.tanh(W1 @ x)
    delta_k = W2 @ z - t
    delta_j = (1 - z**2) * (W2.T @ delta_k)
    np.testing.assert_allclose(w2.grad.numpy(), np.outer(delta_k, z), rtol=0, atol=1e-12)
    np.testing.assert_allclose(w1.grad.numpy(), np.outer(delta_j, x), rtol=0, atol=1e-12)


def test_batch_gradient_is_the_sum_of_per_point_gradients(rng):
    # E = Σ_n E_n, so ∇E = Σ_n ∇E_n (the text's sum over the data set)
    x = rng.standard_normal((6, 3))
    t = rng.standard_normal((6, 2))
    params = rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal(
        (2, 4)), rng.standard_normal(2)
    batch = _engine(x, t, *params)
    singles = [_engine(x[n:n + 1], t[n:n + 1], *params) for n in range(6)]
    for k in range(1, 5):
        np.testing.assert_allclose(batch[k], sum(s[k] for s in singles), rtol=0, atol=1e-12)
