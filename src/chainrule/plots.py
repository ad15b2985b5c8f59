"""Matplotlib figures for the case study and for training runs (the ``plot`` extra).

Figures are drawn on matplotlib's ``Figure`` object with the Agg renderer, never through
``pyplot``: nothing opens a window and a user's own pyplot state is left alone.
"""

from __future__ import annotations

import os

import numpy as np

from ._extras import require

_HIDDEN_COLOURS = ("tab:orange", "tab:green", "tab:purple")


def _figure(figsize):
    require("matplotlib", "plot", "drawing figures")
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _save(fig, path):
    path = os.fspath(path)
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.08)  # no label clipped
    return path


def figure_5_3(panels, path):
    """Draw the text's Figure 5.3 (see :func:`figure_5_3_figure`) and write it to ``path``.

    Returns
    -------
    str
        ``path``.
    """
    return _save(figure_5_3_figure(panels), path)


def figure_5_3_figure(panels):
    """The text's Figure 5.3 as a matplotlib ``Figure``: one panel per problem, plus the
    error curves. One legend above the panels, covering none of them, with one entry per
    hidden unit (each its own colour).

    Parameters
    ----------
    panels : list of dict
        One per problem with ``title``, ``x``, ``t`` (the data), ``grid``, ``fit`` (the
        network's output on ``grid``), ``hidden`` (``len(grid)×H``, the hidden units'
        outputs) and ``errors`` (E at each step).
    """
    fig = _figure((4.0 * len(panels), 7.4))
    grid = fig.add_gridspec(2, len(panels), height_ratios=[3, 2])
    for i, p in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        for j in range(p["hidden"].shape[1]):
            colour = _HIDDEN_COLOURS[j % len(_HIDDEN_COLOURS)]
            ax.plot(p["grid"], p["hidden"][:, j], "--", lw=1, color=colour,
                    label=f"hidden unit z{j + 1}")
        ax.plot(p["grid"], p["fit"], "-", lw=2, color="tab:red", label="network y(x)")
        ax.plot(p["x"], p["t"], "o", ms=4, color="tab:blue", label="data (x, ŷ)")
        ax.set_title(p["title"])
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1.2, 1.3)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1", "−0.5", "0", "0.5", "1"])
        ax.set_xlabel("x")
        if i == 0:
            handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels),
               fontsize="small", frameon=False)
    ax = fig.add_subplot(grid[1, :])
    for p in panels:
        ax.plot(np.arange(len(p["errors"])), p["errors"], label=p["title"])
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("E = ½ Σ (y − ŷ)²")
    ax.set_title("Error during training")
    ax.legend()
    return fig


def loss_curves(history, path, ylabel="loss"):
    """Training and validation loss per epoch.

    Parameters
    ----------
    history : dict
        ``{"train": [...], "val": [...]}`` (either may be missing or empty).
    path : str or os.PathLike
        Where to write the image.
    ylabel : str
        Label of the y axis, e.g. the loss's name.
    """
    fig = _figure((6.0, 4.0))
    ax = fig.add_subplot()
    for key, label in (("train", "training"), ("val", "validation")):
        values = history.get(key) or []
        if len(values):
            ax.plot(np.arange(1, len(values) + 1), values, "-o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    positive = all(v > 0 for k in ("train", "val") for v in history.get(k) or [])
    if positive and any(history.get(k) for k in ("train", "val")):
        ax.set_yscale("log")
    ax.legend()
    return _save(fig, path)
