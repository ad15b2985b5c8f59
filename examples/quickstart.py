"""Fit the text's 1-3-1 tanh network to y = sin(πx) with plain gradient descent.

Only the engine is used: tensors, back-propagation and the update w ← w − η ∇E.
Run: python examples/quickstart.py
"""

import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
x = cr.tensor(rng.uniform(-1, 1, size=(50, 1)))
t = cr.sin(np.pi * x)

# first layer: 1 input -> 3 tanh hidden units; second layer: 3 -> 1 linear output
W1 = cr.tensor(rng.normal(0, 1.0, size=(1, 3)), requires_grad=True)
b1 = cr.tensor(np.zeros(3), requires_grad=True)
W2 = cr.tensor(rng.normal(0, 1.0, size=(3, 1)), requires_grad=True)
b2 = cr.tensor(np.zeros(1), requires_grad=True)
params = [W1, b1, W2, b2]

eta = 0.01
for step in range(3001):
    z = cr.tanh(x @ W1 + b1)               # hidden units z_j = tanh(h_j)
    y = z @ W2 + b2                        # linear outputs y_k
    E = 0.5 * ((y - t) ** 2).sum()         # E = ½ Σ (y − ŷ)²
    for p in params:
        p.grad = None
    E.backward()                           # back-propagation
    with cr.no_grad():
        for p in params:
            p -= eta * p.grad              # gradient descent: w ← w − η ∇E
    if step % 500 == 0:
        print(f"step {step:5d}   E = {E.item():.5f}")

print(f"final error E = {E.item():.5f} on 50 points of sin(πx)")
