"""Your own model's landscape: E of a cr.nn model on a plane through its parameters."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import UserError
from chainrule.explorer import compute, descent
from chainrule.explorer.landscape import ModelLandscape


def make(seed=0):
    rng = np.random.default_rng(seed)
    model = cr.nn.Sequential(cr.nn.Linear(2, 4, generator=rng), cr.nn.Tanh(),
                             cr.nn.Linear(4, 1, generator=rng))
    X = cr.tensor(rng.normal(size=(16, 2)))
    t = cr.tensor(np.sin(X.numpy()[:, :1]) + X.numpy()[:, 1:] ** 2)

    def loss():
        return 0.5 * ((model(X) - t) ** 2).sum()

    return model, loss


def reference_energy(model, loss, values):
    """E with the model's parameters really set to ``values`` (then set back)."""
    saved = model.state_dict()
    model.load_state_dict({n: np.asarray(v) for n, v in values.items()})
    try:
        with cr.no_grad():
            return loss().item()
    finally:
        model.load_state_dict(saved)


def plane_point(land, x, y):
    return {n: land.center[n] + x * land.d1[n] + y * land.d2[n] for n in land.names}


def train(model, loss, steps=30, lr=0.05):
    opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    snaps = [model.state_dict()]
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
        snaps.append(model.state_dict())
    return snaps


@pytest.mark.parametrize("plane", ["weights", "random"])
def test_value_matches_the_model_with_its_parameters_set(plane):
    model, loss = make()
    land = (ModelLandscape.weights(model, loss, "0.weight[1, 0]", "2.weight[0, 3]")
            if plane == "weights" else ModelLandscape.random(model, loss, seed=3))
    for x, y in [(0.3, -0.7), (-1.2, 0.4), land.trained_point]:
        want = reference_energy(model, loss, plane_point(land, x, y))
        assert land(cr.tensor(x), cr.tensor(y)).item() == pytest.approx(want, rel=1e-12)
    assert land(*map(cr.tensor, land.trained_point)).item() == pytest.approx(loss().item(),
                                                                          rel=1e-12)


@pytest.mark.parametrize("plane", ["weights", "random"])
def test_gradient_matches_finite_differences_and_the_directional_derivative(plane):
    model, loss = make(1)
    land = (ModelLandscape.weights(model, loss, "0.bias[2]", "2.weight[0, 1]")
            if plane == "weights" else ModelLandscape.random(model, loss, seed=1))
    x0, y0 = 0.37, -0.21
    x, y = cr.tensor(x0, requires_grad=True), cr.tensor(y0, requires_grad=True)
    gx, gy = cr.grad(land(x, y), [x, y])
    h = 1e-6

    def e(a, b):
        return reference_energy(model, loss, plane_point(land, a, b))

    fdx = (e(x0 + h, y0) - e(x0 - h, y0)) / (2 * h)
    fdy = (e(x0, y0 + h) - e(x0, y0 - h)) / (2 * h)
    assert gx.item() == pytest.approx(fdx, rel=1e-6, abs=1e-8)
    assert gy.item() == pytest.approx(fdy, rel=1e-6, abs=1e-8)
    dx, dy = land.directional_derivatives(x0, y0)
    assert gx.item() == pytest.approx(dx, rel=1e-12, abs=1e-14)
    assert gy.item() == pytest.approx(dy, rel=1e-12, abs=1e-14)
    # the explorer's own point computation takes it as an objective
    p = compute.point(land, x0, y0)
    assert (p["gx"], p["gy"]) == pytest.approx((dx, dy), rel=1e-12, abs=1e-14)


def test_gradcheck_on_the_plane():
    model, loss = make(2)
    land = ModelLandscape.random(model, loss, seed=2)
    x = cr.tensor(np.array([0.1, -0.4]), requires_grad=True)
    y = cr.tensor(np.array([0.2, 0.5]), requires_grad=True)
    assert cr.gradcheck(lambda a, b: land(a, b), [x, y])


def test_grid_matches_pointwise_values():
    model, loss = make()
    land = ModelLandscape.random(model, loss, seed=0)
    g = land.grid((-1, 1), (-0.5, 0.5), n=5)
    assert len(g["z"]) == 5 and len(g["z"][0]) == 5
    for i in (0, 2, 4):
        for j in (1, 3):
            want = reference_energy(model, loss, plane_point(land, g["x"][j], g["y"][i]))
            assert g["z"][i][j] == pytest.approx(want, rel=1e-12)
    assert g["zmin"] == min(min(r) for r in g["z"])


def test_filter_normalised_directions():
    model, loss = make()
    land = ModelLandscape.random(model, loss, seed=5)
    for d in (land.d1, land.d2):
        for name, p in model.named_parameters():
            w = p.numpy()
            if w.ndim == 1:
                assert not d[name].any()
            else:
                np.testing.assert_allclose(np.linalg.norm(d[name], axis=1),
                                           np.linalg.norm(w, axis=1), rtol=1e-12)
    assert not np.allclose(land.d1["0.weight"], land.d2["0.weight"])
    again = ModelLandscape.random(model, loss, seed=5)
    np.testing.assert_array_equal(again.d1["0.weight"], land.d1["0.weight"])
    other = ModelLandscape.random(model, loss, seed=6)
    assert not np.allclose(other.d1["0.weight"], land.d1["0.weight"])
    kept = ModelLandscape.random(model, loss, seed=5, bias="weight")
    np.testing.assert_array_equal(kept.d1["0.bias"], model[0].bias.numpy())
    assert land.trained_point == pytest.approx((0.0, 0.0), abs=1e-12)


def test_parameters_are_restored_exactly():
    model, loss = make()
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    objects = [(m, a, p) for _, m in model.named_modules() for a, p in m._parameters.items()]
    snaps = train(*make(7), steps=3)
    for land in (ModelLandscape.random(model, loss), ModelLandscape.weights(
            model, loss, "0.weight[0, 0]", "2.bias[0]")):
        x, y = cr.tensor(0.5, requires_grad=True), cr.tensor(-0.5, requires_grad=True)
        land(x, y).backward()
        land.grid(n=4)
        land.directional_derivatives(0.1, 0.2)
        land.project(snaps)
        descent.run(land, (0.1, 0.1), "adam", 0.01, 3)
    for module, attr, p in objects:
        assert getattr(module, attr) is p
    for n, p in model.named_parameters():
        np.testing.assert_array_equal(p.numpy(), before[n])
        assert p.grad is None

    def failing():
        model(cr.ones(3, 2))
        raise RuntimeError("boom")

    land = ModelLandscape.random(model, failing)
    with pytest.raises(RuntimeError, match="boom"):
        land(cr.tensor(0.1), cr.tensor(0.2))
    for module, attr, p in objects:
        assert getattr(module, attr) is p


def test_two_weights_projection_is_exact():
    model, loss = make()
    snaps = train(model, loss)
    land = ModelLandscape.weights(model, loss, "0.weight[1, 1]", "2.bias[0]")
    path = land.project(snaps, name="momentum")
    assert path["name"] == "momentum" and len(path["x"]) == len(snaps)
    assert path["x"] == [s["0.weight"].numpy()[1, 1] for s in snaps]
    assert path["y"] == [s["2.bias"].numpy()[0] for s in snaps]
    assert (path["x"][-1], path["y"][-1]) == land.trained_point
    assert path["residual"][-1] == 0.0
    # the residual is how far the other weights were from their trained values
    s0 = {n: v.numpy() for n, v in snaps[0].items()}
    flat = np.concatenate([s0[n].ravel() - land.trained[n].ravel() for n in land.names])
    off = flat.copy()
    names = land.names
    offsets = np.cumsum([0] + [land.trained[n].size for n in names])
    off[offsets[names.index("0.weight")] + 3] = 0.0   # entry [1, 1] of a 4×2 weight
    off[offsets[names.index("2.bias")]] = 0.0
    assert path["residual"][0] == pytest.approx(np.linalg.norm(off) / np.linalg.norm(flat))
    for k in (0, 10, 30):
        assert path["E"][k] == pytest.approx(reference_energy(model, loss, s0 if k == 0 else {
            n: v.numpy() for n, v in snaps[k].items()}), rel=1e-12)


def test_random_plane_projection_by_least_squares():
    model, loss = make()
    land = ModelLandscape.random(model, loss, seed=0)
    on = {n: land.trained[n] + 0.3 * land.d1[n] - 0.2 * land.d2[n] for n in land.names}
    rng = np.random.default_rng(1)
    noise = {n: rng.normal(size=land.shapes[n]) for n in land.names}
    flat_d = np.stack([np.concatenate([d[n].ravel() for n in land.names])
                       for d in (land.d1, land.d2)])
    v = np.concatenate([noise[n].ravel() for n in land.names])
    v -= flat_d.T @ np.linalg.lstsq(flat_d.T, v, rcond=None)[0]  # orthogonal to the plane
    ortho, k = {}, 0
    for n in land.names:
        ortho[n] = v[k:k + land.trained[n].size].reshape(land.shapes[n])
        k += land.trained[n].size
    off = {n: on[n] + ortho[n] for n in land.names}
    path = land.project([on, off, land.trained])
    assert path["x"][0] == pytest.approx(0.3, abs=1e-12)
    assert path["y"][0] == pytest.approx(-0.2, abs=1e-12)
    assert path["residual"][0] == pytest.approx(0.0, abs=1e-12)
    assert path["x"][1] == pytest.approx(0.3, abs=1e-12)
    step = np.concatenate([(off[n] - land.trained[n]).ravel() for n in land.names])
    assert path["residual"][1] == pytest.approx(np.linalg.norm(v) / np.linalg.norm(step))
    assert path["residual"][2] == 0.0
    assert path["E_plane"][1] == pytest.approx(land(cr.tensor(0.3), cr.tensor(-0.2)).item())
    assert path["E"][1] == pytest.approx(reference_energy(model, loss, off), rel=1e-12)


def test_figure_draws_contours_and_the_path(tmp_path):
    pytest.importorskip("matplotlib")
    model, loss = make()
    snaps = train(model, loss, steps=10)
    land = ModelLandscape.random(model, loss, seed=0)
    path = land.project(snaps, name="SGD")
    fig = land.figure([path], n=9)
    ax, ax2 = fig.axes[0], fig.axes[1]
    xs, ys = ax.lines[1].get_data()
    np.testing.assert_allclose(xs, path["x"])
    np.testing.assert_allclose(ys, path["y"])
    assert "off the plane" in ax2.get_title()
    (xr, yr) = land.suggested_range([path])
    assert xr[0] <= min(path["x"]) and max(path["x"]) <= xr[1]
    fig.savefig(tmp_path / "landscape.png")
    assert (tmp_path / "landscape.png").stat().st_size > 10_000


@pytest.mark.parametrize("x,y,match", [
    ("0.weight[9, 0]", "2.bias[0]", "not one of its entries"),
    ("nope.weight[0, 0]", "2.bias[0]", "no parameter 'nope.weight'"),
    ("0.weight[0]", "2.bias[0]", "shape"),
    ("0.weight(0, 0)", "2.bias[0]", "cannot read"),
    ("2.bias[0]", "2.bias[0]", "two different"),
])
def test_bad_weights_are_named(x, y, match):
    model, loss = make()
    with pytest.raises(UserError, match=match):
        ModelLandscape.weights(model, loss, x, y)


def test_bad_inputs_are_named():
    model, loss = make()
    with pytest.raises(UserError, match="cr.nn.Module"):
        ModelLandscape.random(object(), loss)
    with pytest.raises(UserError, match="bias"):
        ModelLandscape.random(model, loss, bias="keep")
    land = ModelLandscape.random(model, lambda: model(cr.ones(3, 2)))
    with pytest.raises(UserError, match="scalar"):
        land(cr.tensor(0.0), cr.tensor(0.0))
    land = ModelLandscape.random(model, loss)
    with pytest.raises(UserError, match="non-empty list"):
        land.project([])
    with pytest.raises(UserError, match="shape"):
        land.project([{"0.weight": np.zeros((2, 2))}])
    with pytest.raises(UserError, match="not parallel"):
        ModelLandscape(model, loss, {"2.bias": np.ones(1)}, {"2.bias": 2 * np.ones(1)})


def test_descent_paths_carry_the_gradient_at_every_point():
    from chainrule.explorer.parser import compile_expression

    f = compile_expression("x^2 + 3*y^2 + sin(x*y)")
    path = descent.run(f, (1.0, -0.5), "adam", 0.1, 7)
    assert len(path["gx"]) == len(path["gy"]) == len(path["x"]) == 8
    for k in (0, 3, 7):
        p = compute.point(f, path["x"][k], path["y"][k])
        assert (path["gx"][k], path["gy"][k]) == (pytest.approx(p["gx"], abs=1e-12),
                                                  pytest.approx(p["gy"], abs=1e-12))


def test_widget_shows_the_plane_with_its_path():
    pytest.importorskip("anywidget", reason="the widget extra")
    model, loss = make()
    snaps = train(model, loss)
    land = ModelLandscape.weights(model, loss, "0.weight[1, 1]", "2.bias[0]")
    path = land.project(snaps, name="momentum")
    w = land.widget([path])
    assert (w.x, w.y) == land.trained_point
    assert [p["name"] for p in w.paths] == ["momentum"]
    assert w.paths[0]["x"] == path["x"] and w.paths[0]["y"] == path["y"]
    (x0, x1), (y0, y1) = w.xrange, w.yrange
    assert x0 <= min(path["x"]) and max(path["x"]) <= x1
    assert y0 <= min(path["y"]) and max(path["y"]) <= y1
    w.x, w.y = path["x"][0], path["y"][0]
    point = compute.point(land, w.x, w.y)
    assert w.value == pytest.approx(point["f"], rel=1e-12)
    assert w.gradient == pytest.approx([point["gx"], point["gy"]], rel=1e-12)
    assert w.value == pytest.approx(path["E_plane"][0], rel=1e-12)
