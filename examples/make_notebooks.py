"""Write the learning notebooks in examples/ from the cells below (no outputs stored).

The notebooks are generated so that their text lives in one reviewable Python file and the
committed ``.ipynb`` files never carry outputs; ``tests/docs/test_notebooks.py`` checks
that the files match this script and runs every one of them top to bottom.

Run: python examples/make_notebooks.py      (needs nbformat, in the ``test`` extra)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent



def setup(stdlib="", plots=True, chainrule=""):
    """The imports cell: standard library, NumPy (and matplotlib), chainrule, in ruff's order."""
    lines = [stdlib, ""] if stdlib else []
    lines += ["import matplotlib.pyplot as plt"] if plots else []
    lines += ["import numpy as np", "", "import chainrule as cr"]
    lines += [chainrule] if chainrule else []
    return "\n".join(lines + ["", "np.set_printoptions(precision=6, suppress=True)"])


GRADIENT_DESCENT = [
    ("md", """\
# 1 · Gradient descent and the gradient's direction

Gradient descent changes the weights by a small step against the gradient,
**w ← w − η ∇E**. This notebook checks, with numbers computed by chainrule, the three
facts the text builds that rule on:

1. to first order (Taylor), a small step Δr changes F by ΔF ≈ ∇F·Δr = ‖∇F‖ ‖Δr‖ cos θ,
   so the change is largest for θ = 0 (along ∇F) and most negative for θ = 180°;
2. the prediction only holds for *small* steps: as η grows, the actual change departs
   from the predicted −η‖∇F‖²;
3. on a quadratic bowl, plain gradient descent converges only for η < 2/λ_max, where
   λ_max is the largest eigenvalue of the Hessian — computed here with chainrule's
   second-order gradients.

We use the explorer's surfaces and compute functions (`chainrule.explorer.compute`),
which are plain Python and need no server."""),
    ("code", setup(chainrule="from chainrule.explorer import compute, descent\n"
                             "from chainrule.explorer.parser import compile_expression")),
    ("md", """\
## A surface and a point

`compile_expression` parses a formula in the explorer's small grammar (it is never
evaluated as Python) into a function of two Tensors. Take the elongated bowl
F(x, y) = x² + 3y², whose gradient is (2x, 6y)."""),
    ("code", """\
F = compile_expression("x^2 + 3*y^2")
x0, y0 = 1.6, 1.2

# the gradient by back-propagation ...
x = cr.tensor(x0, requires_grad=True)
y = cr.tensor(y0, requires_grad=True)
F(x, y).backward()
print("by backward():", x.grad.item(), y.grad.item())

# ... equals the closed form (2x, 6y)
print("closed form:  ", 2 * x0, 6 * y0)
assert np.isclose(x.grad.item(), 2 * x0) and np.isclose(y.grad.item(), 6 * y0)

here = compute.point(F, x0, y0)
grad = np.array([here["gx"], here["gy"]])
print(f"F = {here['f']:.3f}, |∇F| = {here['norm']:.4f}, angle of ∇F = {here['angle']:.1f}°")"""),
    ("md", """\
The gradient is perpendicular to the contour line through the point and points uphill.
`compute.surface` evaluates F and ∇F on a whole grid in one vectorized forward and
backward pass."""),
    ("code", """\
s = compute.surface(F, (-2, 2, -2, 2), 60)
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.contour(s["x"], s["y"], np.array(s["z"]), levels=20, cmap="viridis")
ax.quiver(x0, y0, *(-0.06 * grad), angles="xy", scale_units="xy", scale=1, color="red",
          label="−η∇F (downhill)")
ax.quiver(x0, y0, *(0.06 * grad), angles="xy", scale_units="xy", scale=1, color="blue",
          label="∇F (uphill)")
ax.set_aspect("equal")
ax.legend(loc="lower left")
ax.set_title("x² + 3y²: the gradient is normal to the contour")
plt.show()"""),
    ("md", """\
## The Taylor view: ΔF ≈ ∇F·Δr = ‖∇F‖ ‖Δr‖ cos θ

Move a small distance ‖Δr‖ = 10⁻⁴ in directions at angle θ to the gradient and compare
the actual change of F with the first-order prediction."""),
    ("code", """\
def F_at(px, py):
    with cr.no_grad():
        return F(cr.tensor(px), cr.tensor(py)).item()

unit = grad / np.linalg.norm(grad)
length = 1e-4
print(" θ (deg)   predicted ‖∇F‖‖Δr‖cos θ      actual ΔF")
for theta in [0, 30, 60, 90, 120, 150, 180]:
    t = np.radians(theta)
    rotate = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    dr = length * rotate @ unit
    predicted = np.linalg.norm(grad) * length * np.cos(t)
    actual = F_at(x0 + dr[0], y0 + dr[1]) - F_at(x0, y0)
    assert np.isclose(predicted, grad @ dr)               # the two forms of the dot product
    assert abs(actual - predicted) < 1e-7                 # first order: error is O(‖Δr‖²)
    print(f"{theta:7d}   {predicted:+.10f}             {actual:+.10f}")"""),
    ("md", """\
The change is largest along ∇F (θ = 0), zero across it (θ = 90°) and most negative
against it (θ = 180°): that is why gradient descent steps along −∇F. The leftover
difference is second order — halve the step and it drops about fourfold:"""),
    ("code", """\
for length in [1e-1, 5e-2, 2.5e-2, 1.25e-2]:
    dr = -length * unit
    error = (F_at(x0 + dr[0], y0 + dr[1]) - F_at(x0, y0)) - grad @ dr
    print(f"‖Δr‖ = {length:<7g} error of the first-order prediction = {error:.3e}"
          f"   error/‖Δr‖² = {error / length**2:.4f}")
# for a quadratic the error is exactly ½ ΔrᵀHΔr, so error/‖Δr‖² is constant"""),
    ("md", """\
## Why η must be small: predicted against actual change

A gradient-descent step is Δr = −η∇F, so the first-order prediction is
ΔF ≈ −η‖∇F‖². `compute.taylor` evaluates both for many η at once and reports where
they first differ by more than 10%."""),
    ("code", """\
etas = np.geomspace(1e-4, 1.0, 80)
tay = compute.taylor(F, x0, y0, etas)
predicted, actual = np.array(tay["predicted"]), np.array(tay["actual"])

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(etas, predicted, label="predicted −η‖∇F‖²")
ax.plot(etas, actual, label="actual F(r − η∇F) − F(r)")
ax.axvline(tay["breaks_at"], color="grey", ls=":", label="10% apart")
ax.set_xscale("log")
ax.set_xlabel("η")
ax.set_ylabel("ΔF")
ax.legend()
plt.show()
print(f"prediction within 10% up to η ≈ {tay['breaks_at']:.3g}")
assert actual[0] < 0 and actual[-1] > 0   # small steps go down, large ones overshoot"""),
    ("md", """\
## The 2/λ_max bound from the Hessian

Near a minimum, F is close to its quadratic Taylor model with Hessian H. Along the
eigenvector of H with eigenvalue λ, one step of plain descent multiplies the distance to
the minimum by (1 − ηλ), which shrinks only when |1 − ηλ| < 1, that is **η < 2/λ**. The
steepest direction sets the limit: η < 2/λ_max.

chainrule computes the Hessian by differentiating its own gradient
(`create_graph=True` records the backward pass so it can be differentiated again):"""),
    ("code", """\
x = cr.tensor(x0, requires_grad=True)
y = cr.tensor(y0, requires_grad=True)
gx, gy = cr.grad(F(x, y), [x, y], create_graph=True)     # ∇F as Tensors with a graph
rows = []
for g in (gx, gy):                    # differentiate each component of ∇F again
    second = cr.grad(g, [x, y], retain_graph=True, allow_unused=True)
    rows.append([0.0 if s is None else s.item() for s in second])   # None: no dependence
H = np.array(rows)
print("Hessian:\\n", H)
lam = np.linalg.eigvalsh(H)
print("eigenvalues:", lam, "  bound 2/λ_max =", 2 / lam.max())

assert np.allclose(H, compute.hessian(F, x0, y0))        # the explorer does the same
print(compute.curvature(F, x0, y0)["text"])"""),
    ("md", """\
Run plain gradient descent (`cr.optim.SGD` on the point) just below and just above the
bound:"""),
    ("code", """\
bound = 2 / lam.max()
fig, ax = plt.subplots(figsize=(6, 3.8))
for eta in [0.5 * bound, 0.95 * bound, 1.05 * bound]:
    path = descent.run(F, (x0, y0), "gd", lr=eta, steps=60)
    ax.semilogy(path["E"], label=f"η = {eta:.3f} ({eta / bound:.2f} × 2/λ_max)")
    print(f"η = {eta:.4f}: E after 60 steps = {path['E'][-1]:.3g}")
ax.set_xlabel("step")
ax.set_ylabel("F")
ax.legend()
plt.show()

assert descent.run(F, (x0, y0), "gd", 0.95 * bound, 200)["E"][-1] < 1e-3
assert descent.run(F, (x0, y0), "gd", 1.05 * bound, 200)["E"][-1] > 1e3"""),
    ("md", """\
## The interactive explorer

Everything above can be dragged and animated in the explorer: the point and its gradient,
the tangent plane, predicted against actual change as η grows, and descent paths of
several optimizers. From a terminal: `chainrule explore`. In Jupyter, the cell below
shows the `Explorer` widget (the `widget` extra); `chainrule.explorer.show_app()` frames
the whole page."""),
    ("code", """\
# EXPLORER CELL: the notebook widget, computed in this kernel by chainrule.
import importlib.util

if importlib.util.find_spec("anywidget"):
    from chainrule.explorer import Explorer

    w = Explorer("x^2 + 3*y^2", x=1.6, y=1.2, eta=0.1)
    w.step()  # w <- w - eta * grad F; drag the point in the cell and w.x, w.value follow
    assert abs(w.value - (w.x**2 + 3 * w.y**2)) < 1e-12
    display(w)
else:
    print('The widget needs the widget extra: pip install "chainrule[widget]"')"""),
]

CHAIN_RULE = [
    ("md", """\
# 2 · The chain rule, by hand and by the engine

Back-propagation is the chain rule run backwards: if z depends on y and y on x, then
**dz/dx = dz/dy · dy/dx**. chainrule records each operation as it runs, and `backward()`
walks that record from the output to the inputs, multiplying local derivatives."""),
    ("code", setup(stdlib="import shutil", plots=False)),
    ("md", """\
## A scalar chain

x → y = sin(x) → z = y². By hand: dz/dy = 2y and dy/dx = cos x, so dz/dx = 2 sin(x) cos(x)."""),
    ("code", """\
x = cr.tensor(0.7, requires_grad=True)
y = cr.sin(x)
z = y * y
z.backward()

by_hand = (2 * np.sin(0.7)) * np.cos(0.7)      # dz/dy · dy/dx
print("engine :", x.grad.item())
print("by hand:", by_hand)
assert abs(x.grad.item() - by_hand) < 1e-15"""),
    ("md", """\
A longer chain just multiplies more factors. x → a = 3x → b = tanh(a) → c = exp(b):
dc/dx = exp(b) · (1 − b²) · 3."""),
    ("code", """\
x = cr.tensor(0.2, requires_grad=True)
a = 3 * x
b = cr.tanh(a)
c = cr.exp(b)
(dc_dx,) = cr.grad(c, x)          # cr.grad returns gradients instead of storing .grad

bv = np.tanh(0.6)
by_hand = np.exp(bv) * (1 - bv**2) * 3
print(dc_dx.item(), by_hand)
assert abs(dc_dx.item() - by_hand) < 1e-14"""),
    ("md", """\
## A value that feeds two operations

When a value is used twice, its gradient is the **sum over the paths** from it to the
output. Take u = x², E = 3u + exp(u). The output depends on u along two paths, so
dE/du = 3 + exp(u), and dE/dx = (3 + exp(u)) · 2x."""),
    ("code", """\
x = cr.tensor(0.5, requires_grad=True)
u = x * x
E = 3 * u + cr.exp(u)

# each path's contribution, then their sum
path_linear, path_exp = 3.0, np.exp(0.25)
(dE_du,) = cr.grad(E, u, retain_graph=True)   # keep the graph for the next call
print("dE/du:", dE_du.item(), "=", path_linear, "+", path_exp)
assert abs(dE_du.item() - (path_linear + path_exp)) < 1e-15

(dE_dx,) = cr.grad(E, x, retain_graph=True)
assert abs(dE_dx.item() - (path_linear + path_exp) * 2 * 0.5) < 1e-15
print("dE/dx:", dE_dx.item())"""),
    ("md", """\
## Seeing the graph

`cr.viz.draw_graph` draws the recorded graph with every value's gradient. Draw **before**
`backward()` (or after `backward(retain_graph=True)`): a plain backward frees the graph.
Where a value feeds several ops, each arrow out of it carries its share of the gradient,
and the shares add up to the gradient in its box."""),
    ("code", """\
g = cr.viz.draw_graph(E)               # computes ∂E/∂v for every v; nothing accumulates
(u_box,) = [n for n in g.find(role="intermediate") if len(g.outgoing(n.id)) == 2]
shares = [float(e.grad) for e in g.outgoing(u_box.id)]
print("u's gradient", float(u_box.grad), "= the shares on its two arrows", shares)
assert np.isclose(float(sum(shares)), 3 + np.exp(0.25))"""),
    ("code", """\
if shutil.which("dot"):
    from IPython.display import display

    display(g)                          # rendered by Graphviz's dot
else:
    print("Graphviz's dot is not installed; the dot source instead:\\n", g.source[:400])"""),
    ("md", """\
Now the real backward. It fills `.grad` of the leaf, and the graph is freed afterwards:"""),
    ("code", """\
E.backward()
print("x.grad =", x.grad.item())
try:
    E.backward()
except cr.BackwardError as err:         # a second backward through a freed graph says so
    print(type(err).__name__, ":", str(err).splitlines()[0])"""),
    ("md", """\
## The error of one data point

The same picture for the text's network: the residual d = y − t feeds both factors of
E = ½ Σ d·d, so its gradient is the sum of two equal halves, d."""),
    ("code", """\
model = cr.nn.Sequential(cr.nn.Linear(1, 3, generator=np.random.default_rng(0)), cr.nn.Tanh(),
                         cr.nn.Linear(3, 1, generator=np.random.default_rng(1)))
x, t = cr.tensor([[0.5]]), cr.tensor([[0.25]])
d = model(x) - t
E = 0.5 * (d * d).sum()
g = cr.viz.draw_graph(E)
print(len(g.nodes), "boxes;", "gradient check:",
      cr.gradcheck(lambda w: 0.5 * ((model[2](model[1](x @ w.T + model[0].bias)) - t) ** 2).sum(),
                   [cr.tensor(model[0].weight.numpy().copy(), requires_grad=True)]))
if shutil.which("dot"):
    display(g)"""),
]

BISHOP = [
    ("md", """\
# 3 · Bishop's network: back-propagation written out

The text's case study is the two-layer network of Bishop, *Pattern Recognition and
Machine Learning* §5.3: one input, three tanh hidden units, one linear output, trained on
the four problems of Figure 5.3. Here the forward pass and the δ rules are written in
NumPy exactly as in the text, beside chainrule's `backward()`, and the two agree to 10⁻¹².

Forward pass, for each point n:

- hidden pre-activations a_j = Σ_i w_ji x_i + w_j0,
- hidden units z_j = tanh(a_j), with tanh′(a) = 1 − tanh²(a) (eq. 5.7),
- linear outputs y_k = Σ_j w_kj z_j + w_k0,
- error E = ½ Σ_n Σ_k (y_k − t_k)².

Backward pass (eqs. 5.9–5.12):

- output units δ_k = y_k − t_k,
- ∂E/∂w_kj = δ_k z_j,
- hidden units δ_j = (1 − z_j²) Σ_k w_kj δ_k,
- ∂E/∂w_ji = δ_j x_i (the biases are weights on a constant input 1),

summed over the data points."""),
    ("code", setup()),
    ("code", """\
def backprop_by_hand(x, t, W1, b1, W2, b2):
    a = x @ W1.T + b1                  # a_j = Σ_i w_ji x_i + w_j0
    z = np.tanh(a)                     # z_j = tanh(a_j)
    y = z @ W2.T + b2                  # y_k = Σ_j w_kj z_j + w_k0
    E = 0.5 * np.sum((y - t) ** 2)     # E = ½ Σ (y − t)²
    delta_k = y - t                    # δ_k = y_k − t_k
    dW2 = delta_k.T @ z                # ∂E/∂w_kj = Σ_n δ_k z_j
    delta_j = (1 - z**2) * (delta_k @ W2)   # δ_j = (1 − z_j²) Σ_k w_kj δ_k
    dW1 = delta_j.T @ x                # ∂E/∂w_ji = Σ_n δ_j x_i
    return E, (dW1, delta_j.sum(0), dW2, delta_k.sum(0))"""),
    ("md", """\
The same network with chainrule's `nn` (PyTorch's names; `Linear`'s weight is out × in,
so `weight[j, i]` is the text's w_ji), on the sin(πx) problem:"""),
    ("code", """\
x, t = cr.data.figure_5_3("sin")        # 50 points, x uniform in [−1, 1]
rng = np.random.default_rng(0)
net = cr.nn.Sequential(cr.nn.Linear(1, 3, generator=rng), cr.nn.Tanh(),
                       cr.nn.Linear(3, 1, generator=rng))

E = 0.5 * cr.nn.functional.mse_loss(net(cr.tensor(x)), t, reduction="sum")
E.backward()

arrays = [p.numpy() for p in net.parameters()]          # W1, b1, W2, b2
E_hand, grads_hand = backprop_by_hand(x, t, *arrays)
print("E:", E.item(), E_hand)
for (name, p), g in zip(net.named_parameters(), grads_hand):
    diff = np.max(np.abs(p.grad.numpy() - g))
    print(f"{name:10s} largest difference {diff:.1e}")
    assert diff < 1e-12"""),
    ("md", """\
## Training on the four problems of Figure 5.3

Plain gradient descent w ← w − η∇E with `cr.optim.SGD` (no momentum), with the text's
η = 0.006 and 20,000 full-batch steps per problem, as `chainrule demo` runs it. The step
is wrapped in `cr.compile` (notebook 5), which replays it faster and gives bitwise the
same numbers as the eager loop; delete that line and you get the same results, slower."""),
    ("code", """\
def train(name, steps=20_000, lr=0.006, seed=0):
    x, t = cr.data.figure_5_3(name)
    rng = np.random.default_rng(seed)
    net = cr.nn.Sequential(cr.nn.Linear(1, 3, generator=rng), cr.nn.Tanh(),
                           cr.nn.Linear(3, 1, generator=rng))
    opt = cr.optim.SGD(net.parameters(), lr=lr)

    def step(x, t):
        opt.zero_grad()
        E = 0.5 * cr.nn.functional.mse_loss(net(x), t, reduction="sum")
        E.backward()
        opt.step()
        return E

    step = cr.compile(step)
    xt, tt = cr.tensor(x), cr.tensor(t)
    errors = [step(xt, tt).item() for _ in range(steps)]
    return net, x, t, errors

results = {name: train(name) for name in cr.data.FIGURE_5_3}
for name, (_, _, _, errors) in results.items():
    print(f"{cr.data.FIGURE_5_3_LABELS[name]:8s} E: {errors[0]:8.4f} → {errors[-1]:.5f}")
    assert errors[-1] < errors[0]"""),
    ("md", """\
## The hidden units

The text's Figure 5.3 draws, with each fit, the outputs of the three hidden units: the
network builds its answer as a weighted sum of three shifted and scaled tanh curves."""),
    ("code", """\
grid = np.linspace(-1, 1, 200).reshape(-1, 1)
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), sharey=True)
for ax, (name, (net, x, t, _)) in zip(axes, results.items()):
    with cr.no_grad():
        hidden = net[1](net[0](cr.tensor(grid))).numpy()   # z_j(x), shape (200, 3)
        out = net(cr.tensor(grid)).numpy()
    ax.plot(x, t, "o", ms=3, color="tab:blue", label="data")
    ax.plot(grid, out, color="tab:red", label="network")
    ax.plot(grid, hidden, "--", lw=1, color="grey")
    ax.set_title(cr.data.FIGURE_5_3_LABELS[name])
axes[0].legend(loc="lower left")
plt.show()"""),
    ("md", """\
With three tanh units the step H(x) is the hardest: its error stays the largest,
because a sum of three smooth curves cannot jump."""),
    ("code", """\
final = {name: r[3][-1] for name, r in results.items()}
print(final)
assert max(final, key=final.get) == "step\""""),
]

OWN_MODEL = [
    ("md", """\
# 4 · Your own model: `cr.nn`, an optimizer, a DataLoader, checkpoints

A classifier for the 8×8 handwritten digits that scikit-learn ships (1,797 images;
nothing is downloaded). It needs the `data` extra: `pip install "chainrule[data]"`.
The code is what you would write with PyTorch."""),
    ("code", setup()),
    ("code", """\
X_train, y_train, X_test, y_test = cr.data.load_digits()     # float32 pixels in [0, 1]
print(X_train.shape, y_train.shape, X_test.shape, "classes:", np.unique(y_train))

fig, axes = plt.subplots(1, 8, figsize=(8, 1.2))
for ax, img, label in zip(axes, X_train, y_train):
    ax.imshow(img.reshape(8, 8), cmap="gray_r")
    ax.set_title(int(label))
    ax.axis("off")
plt.show()"""),
    ("md", """\
## A model as a `Module`

Subclass `cr.nn.Module`, create layers in `__init__`, say what happens in `forward`.
Parameters are found automatically (`named_parameters()`)."""),
    ("code", """\
class MLP(cr.nn.Module):
    def __init__(self, hidden=32, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.fc1 = cr.nn.Linear(64, hidden, dtype=np.float32, generator=rng)
        self.act = cr.nn.ReLU()
        self.fc2 = cr.nn.Linear(hidden, 10, dtype=np.float32, generator=rng)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))

model = MLP()
for name, p in model.named_parameters():
    print(f"{name:12s} {p.shape}")"""),
    ("md", """\
## Training with mini-batches

`cr.data.DataLoader` yields shuffled NumPy mini-batches (a new order each epoch, seeded);
`cross_entropy` takes logits and integer classes; Adam updates the weights."""),
    ("code", """\
def accuracy(model, X, y):
    with cr.no_grad():
        return float((model(cr.tensor(X)).numpy().argmax(axis=1) == y).mean())

opt = cr.optim.Adam(model.parameters(), lr=1e-2)
loader = cr.data.DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)
print("before training: test accuracy", accuracy(model, X_test, y_test))
for epoch in range(5):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(model(cr.tensor(xb)), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(yb)
    print(f"epoch {epoch + 1}: mean loss {total / len(y_train):.4f}, "
          f"test accuracy {accuracy(model, X_test, y_test):.3f}")
assert accuracy(model, X_test, y_test) > 0.9"""),
    ("md", """\
## Checkpoints

`cr.save` writes a `.npz` (or `.safetensors`) file, never a pickle; nested dicts such as
an optimizer's `state_dict()` round-trip. Save the model and the optimizer, load them into
fresh objects, and training continues exactly where it stopped."""),
    ("code", """\
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
cr.save({"model": model.state_dict(), "opt": opt.state_dict()}, folder / "checkpoint.npz")
print(sorted(p.name for p in folder.iterdir()))

restored = MLP(seed=123)                       # different initial weights ...
restored_opt = cr.optim.Adam(restored.parameters(), lr=1e-2)
ckpt = cr.load(folder / "checkpoint.npz")
restored.load_state_dict(ckpt["model"])        # ... replaced by the saved ones
restored_opt.load_state_dict(ckpt["opt"])
assert accuracy(restored, X_test, y_test) == accuracy(model, X_test, y_test)

# one more step on each: identical, because the Adam moments came back too
xb, yb = X_train[:64], y_train[:64]
for m, o in [(model, opt), (restored, restored_opt)]:
    o.zero_grad()
    cr.nn.functional.cross_entropy(m(cr.tensor(xb)), yb).backward()
    o.step()
for (name, p), q in zip(model.named_parameters(), restored.parameters()):
    assert np.array_equal(p.numpy(), q.numpy()), name
print("resumed training matches step for step")"""),
    ("md", """\
## Your model's landscape

E of *this* model as a function of two numbers, with the descent path drawn on it: the
explorer's network-landscape mode for any `cr.nn` model and loss.
`ModelLandscape.weights` varies two chosen weights (the rest stay at their trained
values); `ModelLandscape.random` moves along two random *filter-normalised* directions
around the trained point (Li et al., 2018: each row of a weight's direction is rescaled to
that row's norm; biases get no direction). The loss is a closure, as an optimizer's is.
Snapshots (`state_dict()` after each step) are projected on the plane — exactly for two
weights, by least squares for directions — and the *residual fraction* says how much of
each snapshot's distance from the trained point the plane cannot show. The model's own
parameters are never written."""),
    ("code", """\
from chainrule.explorer.landscape import ModelLandscape

small = MLP(hidden=16, seed=1)
Xs, ys = cr.tensor(X_train[:256]), y_train[:256]
E = lambda: cr.nn.functional.cross_entropy(small(Xs), ys)
opt = cr.optim.SGD(small.parameters(), lr=0.5, momentum=0.9)
snapshots = [small.state_dict()]
for _ in range(40):
    opt.zero_grad()
    E().backward()
    opt.step()
    snapshots.append(small.state_dict())

two = ModelLandscape.weights(small, E, "fc2.weight[3, 0]", "fc2.bias[3]")
path = two.project(snapshots, name="SGD, momentum 0.9")
print("E now", round(E().item(), 4), "= E on the plane at the trained point",
      round(two(*map(cr.tensor, two.trained_point)).item(), 4))
print(f"off the plane: up to {path['max_residual']:.0%} of the distance to the trained point")
assert path["x"] == [float(s["fc2.weight"].numpy()[3, 0]) for s in snapshots]
two.figure([path], n=21)"""),
    ("md", """\
The landscape is a function of chainrule tensors, so its gradient on the plane comes from
autodiff and equals the directional derivatives d₁·∇E and d₂·∇E of the model's own
gradient. On random directions the path walks mostly off the plane (the residual says so):
read its line on the contours as a shadow."""),
    ("code", """\
a, b = cr.tensor(0.2, requires_grad=True), cr.tensor(-0.1, requires_grad=True)
rand = ModelLandscape.random(small, E, seed=0)
ga, gb = cr.grad(rand(a, b), [a, b])
print("autodiff on the plane:", ga.item(), gb.item())
d1, d2 = rand.directional_derivatives(0.2, -0.1)
print("d1·∇E, d2·∇E:         ", d1, d2)
assert np.allclose([ga.item(), gb.item()], [d1, d2], rtol=1e-4, atol=1e-6)
rpath = rand.project(snapshots, name="SGD, momentum 0.9")
rand.figure([rpath], n=21)"""),
]

SPEED = [
    ("md", """\
# 5 · Speed: eager, `cr.compile`, and NumPy by hand

A tiny network's training step is dominated by Python bookkeeping, not arithmetic.
This notebook times one step of the text's 1-3-1 network three ways, on this machine,
right now: chainrule eager (a graph recorded and walked each step), chainrule compiled
(`cr.compile` traces the step once and replays its NumPy calls) and hand-written NumPy.
Only the **ratios** mean something; absolute times depend on the machine and its load.
The full comparison with PyTorch, JAX and others is `chainrule bench` (see the README's
Performance table)."""),
    ("code", setup(stdlib="import timeit", plots=False,
                   chainrule="from chainrule.compiler import CompileError")),
    ("code", """\
x, t = cr.data.figure_5_3("sin")
xt, tt = cr.tensor(x), cr.tensor(t)
lr = 0.006

def make_net():
    rng = np.random.default_rng(0)
    return cr.nn.Sequential(cr.nn.Linear(1, 3, generator=rng), cr.nn.Tanh(),
                            cr.nn.Linear(3, 1, generator=rng))

def make_step(net):
    opt = cr.optim.SGD(net.parameters(), lr=lr)
    def step(x, t):
        opt.zero_grad()
        E = 0.5 * cr.nn.functional.mse_loss(net(x), t, reduction="sum")
        E.backward()
        opt.step()
        return E
    return step

eager_net, compiled_net = make_net(), make_net()
eager = make_step(eager_net)
compiled = cr.compile(make_step(compiled_net))

# NumPy by hand: the same forward, the δ rules of notebook 3, the same update
W1, b1, W2, b2 = (p.numpy().copy() for p in make_net().parameters())
def numpy_step():
    global W1, b1, W2, b2
    z = np.tanh(x @ W1.T + b1)
    y = z @ W2.T + b2
    d_k = y - t
    d_j = (1 - z * z) * (d_k @ W2)
    W1 -= lr * (d_j.T @ x)
    b1 -= lr * d_j.sum(0)
    W2 -= lr * (d_k.T @ z)
    b2 -= lr * d_k.sum(0)"""),
    ("md", """\
First, the compiled step must give the same numbers as the eager one — bitwise:"""),
    ("code", """\
for _ in range(100):
    e1, e2 = eager(xt, tt), compiled(xt, tt)
    numpy_step()
    assert e1.item() == e2.item()
for p, q in zip(eager_net.parameters(), compiled_net.parameters()):
    assert np.array_equal(p.numpy(), q.numpy())
print("eager and compiled agree bitwise after 100 steps; E =", e1.item())
assert np.allclose(W1, eager_net[0].weight.numpy(), rtol=1e-10)"""),
    ("md", """\
Now the timing: the median of several blocks of 200 steps each, interleaved so that a
burst of load on the machine hits all three alike."""),
    ("code", """\
def per_step(fn, number=200):
    return timeit.timeit(fn, number=number) / number

times = {"NumPy by hand": [], "chainrule eager": [], "chainrule compiled": []}
for _ in range(7):
    times["NumPy by hand"].append(per_step(numpy_step))
    times["chainrule eager"].append(per_step(lambda: eager(xt, tt)))
    times["chainrule compiled"].append(per_step(lambda: compiled(xt, tt)))

base = np.median(times["NumPy by hand"])
for name, ts in times.items():
    median = np.median(ts)
    print(f"{name:20s} {median * 1e6:7.1f} µs per step   ({median / base:.2f}× NumPy)")"""),
    ("md", """\
Typically the eager step costs a few times the hand-written one (each op builds a Tensor
and a graph node, and the backward walks them), while the compiled step comes close to
NumPy: it replays the same NumPy calls the eager step made, with no tensors, nodes or
graph walk. For large matrices the arithmetic dominates and all three approach each other.

`cr.compile` refuses what it cannot replay faithfully — reading a value inside the step:"""),
    ("code", """\
def reads_a_value(x, t):
    E = eager(x, t)
    if E.item() > 1:          # a Python decision on a traced value
        pass
    return E

try:
    cr.compile(reads_a_value)(xt, tt)
except CompileError as err:
    print(type(err).__name__, ":", str(err).splitlines()[0])"""),
]

NOTEBOOKS = {
    "01_gradient_descent.ipynb": GRADIENT_DESCENT,
    "02_chain_rule.ipynb": CHAIN_RULE,
    "03_bishop_network.ipynb": BISHOP,
    "04_your_own_model.ipynb": OWN_MODEL,
    "05_speed.ipynb": SPEED,
}


def build(cells):
    """One notebook (an ``nbformat.NotebookNode``) from ``(kind, source)`` pairs."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, id=f"cell-{i:02d}"))
    nbformat.validate(nb)
    return nb


def render(cells) -> str:
    """The notebook's file text, exactly as written to disk."""
    import nbformat

    return nbformat.writes(build(cells)) + "\n"


def main(argv=None) -> int:
    for name, cells in NOTEBOOKS.items():
        (HERE / name).write_text(render(cells), encoding="utf-8")
        print(f"wrote examples/{name} ({len(cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
