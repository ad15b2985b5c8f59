"""Preset surfaces for the explorer, written in the explorer's own expression grammar.

Each preset is parsed by :mod:`chainrule.explorer.parser` exactly like typed text, so the
presets exercise the same path a user's expression takes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Preset:
    """A named function with a sensible view box, start point and step size."""

    name: str
    label: str
    expression: str
    domain: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    start: tuple[float, float]
    lr: float
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: tuple[Preset, ...] = (
    Preset("bowl", "Round bowl", "x^2 + y^2", (-2, 2, -2, 2), (1.5, 1.2), 0.1,
           "Every gradient points straight away from the minimum; any η < 1 converges."),
    Preset("elongated", "Elongated bowl", "x^2 + 3*y^2", (-2, 2, -2, 2), (1.6, 1.2), 0.1,
           "λ = 2 and 6: steps zig-zag across the narrow valley; η < 2/6 is needed."),
    Preset("ravine", "Narrow ravine", "0.5*x^2 + 12.5*y^2", (-3, 3, -1.5, 1.5), (-2.5, 0.8),
           0.05, "Curvatures 1 and 25: η < 2/25 for the steep y, so x moves slowly; a zig-zag."),
    Preset("saddle", "Saddle", "x^2 - y^2", (-2, 2, -2, 2), (1.5, 0.05), 0.1,
           "A stationary point that is not a minimum: descent slides off along y."),
    Preset("rosenbrock", "Rosenbrock's banana", "(1 - x)^2 + 100*(y - x^2)^2",
           (-2, 2, -1, 3), (-1.2, 1.0), 0.001,
           "A curved valley with the minimum at (1, 1); η must stay below ~0.0025 near it."),
    Preset("himmelblau", "Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
           (-5, 5, -5, 5), (0.0, 0.0), 0.01,
           "Four minima of equal height; where you start decides where you end."),
    Preset("beale", "Beale", "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
           (-4.5, 4.5, -4.5, 4.5), (1.0, 1.0), 0.001,
           "Flat plateaus and steep walls; the minimum is at (3, 0.5)."),
    Preset("hills", "Hills (sin·cos)", "sin(x)*cos(y)", (-4, 4, -4, 4), (0.5, 0.8), 0.3,
           "Hills and valleys: descent finds whichever valley is downhill from the start."),
    Preset("bumps", "Two wells", "-exp(-(x-1)^2 - (y-1)^2) - 0.6*exp(-(x+1)^2 - (y+1)^2)",
           (-3, 3, -3, 3), (-0.2, 0.3), 0.5,
           "A deep and a shallow minimum: a local minimum is not always the best one."),
)  # fmt: skip

BY_NAME = {p.name: p for p in PRESETS}
