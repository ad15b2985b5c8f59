"""The case study's Figure 5.3 is legible: its legend covers no panel, each hidden unit has
its own legend entry in its own colour, and no tick label is cut off by the image's edge."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule import plots  # noqa: E402


def panels():
    grid = np.linspace(-1, 1, 50)
    out = []
    for title, f in (("x²", grid**2), ("sin(πx)", np.sin(np.pi * grid)), ("|x|", abs(grid)),
                     ("H(x)", (grid > 0) * 1.0)):
        hidden = np.tanh(np.outer(grid, [1.0, -2.0, 3.0]))
        out.append({"title": title, "x": grid, "t": f, "grid": grid, "fit": f, "hidden": hidden,
                    "errors": np.geomspace(1, 1e-3, 100)})
    return out


def drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_legend_is_outside_the_panels_with_one_entry_per_hidden_unit(tmp_path):
    fig = plots.figure_5_3_figure(panels())
    renderer = drawn(fig)
    assert len(fig.legends) == 1
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    hidden = [h for h, lab in zip(legend.legend_handles, labels) if lab.startswith("hidden")]
    assert [lab for lab in labels if lab.startswith("hidden")] == [
        "hidden unit z1", "hidden unit z2", "hidden unit z3"]
    assert len({h.get_color() for h in hidden}) == 3
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
    for ax in fig.axes[:4]:  # no panel draws a legend of its own
        assert ax.get_legend() is None


def test_no_tick_label_is_clipped(tmp_path):
    path = tmp_path / "f.png"
    plots.figure_5_3(panels(), path)
    fig = plots.figure_5_3_figure(panels())
    renderer = drawn(fig)
    width = fig.get_figwidth() * fig.dpi
    labels = [t for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()
              and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    # before the fix the last panel's "1.0" ran past the figure's right edge
    assert max(t.get_window_extent(renderer).x1 for t in labels) <= width
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[1] > 1000
    # the saved image's edges are background: nothing runs off it
    for edge in (img[:, -1, :3], img[:, 0, :3], img[0, :, :3], img[-1, :, :3]):
        assert np.allclose(edge, 1.0)
