"""The network landscape: the text's 1-3-1 tanh network as a function of two of its weights.

The network is ``y(x) = b2 + Σ_j w2_j tanh(w1_j x + b1_j)`` (Bishop, PRML §5.3, three hidden
units) and its error ``E = ½ Σ_n (y(x_n) − t_n)²`` on one Figure 5.3 problem. Two weights are
free (the surface's ``x`` and ``y`` axes); the other eight stay at trained values. The free
weights may be Tensors of any shape, so a whole grid of networks is evaluated with one
broadcast forward pass and one backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import UserError

#: (id, label) of the ten weights, in the order of the flat parameter vector.
WEIGHTS: tuple[tuple[str, str], ...] = (
    ("w1_1", "w⁽¹⁾₁₁: x → hidden 1"),
    ("w1_2", "w⁽¹⁾₂₁: x → hidden 2"),
    ("w1_3", "w⁽¹⁾₃₁: x → hidden 3"),
    ("b1_1", "w⁽¹⁾₁₀: bias of hidden 1"),
    ("b1_2", "w⁽¹⁾₂₀: bias of hidden 2"),
    ("b1_3", "w⁽¹⁾₃₀: bias of hidden 3"),
    ("w2_1", "w⁽²⁾₁₁: hidden 1 → y"),
    ("w2_2", "w⁽²⁾₁₂: hidden 2 → y"),
    ("w2_3", "w⁽²⁾₁₃: hidden 3 → y"),
    ("b2", "w⁽²⁾₁₀: bias of y"),
)
WEIGHT_IDS = tuple(w for w, _ in WEIGHTS)
HIDDEN = 3
TRAIN_STEPS = 2000
TRAIN_LR = 0.03


def forward(w, x):
    """Network output for weights ``w`` (ten floats or Tensors) at inputs ``x``.

    A Tensor weight of shape ``S + (1,)`` against ``x`` of shape ``(N,)`` gives outputs of
    shape ``S + (N,)``: one network per element of ``S``.
    """
    import chainrule as cr

    y = w[9]
    for j in range(HIDDEN):
        y = y + w[6 + j] * cr.tanh(w[j] * x + w[3 + j])
    return y


@lru_cache(maxsize=8)
def problem_data(problem: str) -> tuple[np.ndarray, np.ndarray]:
    """The Figure 5.3 data set ``problem`` as flat float64 arrays ``(x, t)``."""
    from ..data import FIGURE_5_3, figure_5_3

    if problem not in FIGURE_5_3:
        raise UserError(f"unknown problem {problem!r}; choose one of {', '.join(FIGURE_5_3)}")
    x, t = figure_5_3(problem, n=50, seed=0)
    x, t = np.array(x, np.float64).ravel(), np.array(t, np.float64).ravel()
    x.flags.writeable = t.flags.writeable = False  # shared by every request's thread
    return x, t


def _initial_weights(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=10)


@lru_cache(maxsize=8)
def trained_weights(problem: str) -> np.ndarray:
    """Weights of the 1-3-1 network trained on ``problem`` (seeded, cached), shape (10,).

    Full-batch Adam on ``E = ½ Σ (y − t)²`` for a fixed number of steps, from a seeded
    normal start: the same weights every time.
    """
    import chainrule as cr

    from .descent import make_optimizer

    x, t = problem_data(problem)
    w = cr.tensor(_initial_weights(), requires_grad=True)
    opt = make_optimizer("adam", w, TRAIN_LR)
    xt, tt = cr.tensor(x), cr.tensor(t)
    with cr.enable_grad():  # the first caller may be inside no_grad (e.g. a surface of E)
        for _ in range(TRAIN_STEPS):
            opt.zero_grad()
            ws = [w[i] for i in range(10)]
            loss = 0.5 * ((forward(ws, xt) - tt) ** 2).sum()
            loss.backward()
            opt.step()
    out = w.detach().numpy().copy()
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class NetworkLandscape:
    """E of the trained network as a function of two chosen weights.

    Calling it with Tensors ``a`` and ``b`` (same or broadcastable shapes) returns E with
    the broadcast shape, differentiable with respect to both.
    """

    problem: str
    wx: str
    wy: str

    def __post_init__(self):
        for name in (self.wx, self.wy):
            if name not in WEIGHT_IDS:
                raise UserError(f"unknown weight {name!r}; choose from {', '.join(WEIGHT_IDS)}")
        if self.wx == self.wy:
            raise UserError(f"choose two different weights (both are {self.wx!r})")
        problem_data(self.problem)

    @property
    def trained(self) -> np.ndarray:
        return trained_weights(self.problem)

    @property
    def trained_point(self) -> tuple[float, float]:
        w = self.trained
        return float(w[WEIGHT_IDS.index(self.wx)]), float(w[WEIGHT_IDS.index(self.wy)])

    def weights(self, a, b) -> list:
        """The ten weights with the two free ones set to ``a`` and ``b`` (given a trailing axis)."""
        w = [float(v) for v in self.trained]
        w[WEIGHT_IDS.index(self.wx)] = a.reshape(tuple(a.shape) + (1,))
        w[WEIGHT_IDS.index(self.wy)] = b.reshape(tuple(b.shape) + (1,))
        return w

    def __call__(self, a, b):
        import chainrule as cr

        x, t = problem_data(self.problem)
        y = forward(self.weights(a, b), cr.tensor(x))
        return 0.5 * ((y - cr.tensor(t)) ** 2).sum(axis=-1)

    def fit(self, a: float, b: float, n: int = 101) -> dict:
        """The network's output on a dense grid of x in [−1, 1] with the free weights at a, b."""
        import chainrule as cr

        xs = np.linspace(-1.0, 1.0, n)
        with cr.no_grad():
            w = self.weights(cr.tensor(np.float64(a)), cr.tensor(np.float64(b)))
            y = forward(w, cr.tensor(xs)).numpy()
        return {"x": xs.tolist(), "y": y.tolist()}

    def suggested_domain(self) -> tuple[float, float, float, float]:
        """A view box centred on the trained values, wide enough to show the valley."""
        a, b = self.trained_point
        ha = max(2.0, 1.5 * abs(a))
        hb = max(2.0, 1.5 * abs(b))
        return (a - ha, a + ha, b - hb, b + hb)
