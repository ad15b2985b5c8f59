"""cr.compile: a traced step replays exactly what the eager step does."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import CompileError

OPTIMIZERS = {
    "sgd": lambda p: cr.optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "sgd-nesterov": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: cr.optim.Adam(p, lr=0.01, weight_decay=1e-3),
    "adam-amsgrad": lambda p: cr.optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: cr.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: cr.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: cr.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}


def _setup(make_opt, loss="mse", dtype=np.float64, seed=0):
    gen = np.random.default_rng(seed)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8, dtype=dtype, generator=gen), cr.nn.Tanh(),
                             cr.nn.Linear(8, 3, dtype=dtype, generator=gen))
    opt = make_opt(model.parameters())
    F = cr.nn.functional

    def step(x, t):
        opt.zero_grad()
        y = model(x)
        e = 0.5 * F.mse_loss(y, t, reduction="sum") if loss == "mse" else F.cross_entropy(y, t)
        e.backward()
        opt.step()
        return e

    return model, opt, step


def _batches(n=5, rows=6, loss="mse", dtype=np.float64):
    gen = np.random.default_rng(1)
    out = []
    for _ in range(n):
        x = cr.tensor(gen.normal(size=(rows, 4)).astype(dtype))
        t = gen.normal(size=(rows, 3)) if loss == "mse" else gen.integers(0, 3, rows)
        out.append((x, cr.tensor(t.astype(dtype) if loss == "mse" else t)))
    return out


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_compiled_equals_eager_bitwise(name, loss):
    m1, o1, eager = _setup(OPTIMIZERS[name], loss)
    m2, o2, step = _setup(OPTIMIZERS[name], loss)
    compiled = cr.compile(step)
    for x, t in _batches(loss=loss) * 2:
        e1, e2 = eager(x, t), compiled(x, t)
        assert e1.item() == e2.item()
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.data, p2.data)
        np.testing.assert_array_equal(p1.grad.data, p2.grad.data)
    # the first call creates the optimizer's state (a trace that is not kept) and finds no
    # .grad; the second finds both (a guard on each), and its trace is replayed from then on
    assert compiled.traces == 2


def test_float32_and_new_shapes_retrace():
    m1, _, eager = _setup(OPTIMIZERS["adam"], dtype=np.float32)
    m2, _, step = _setup(OPTIMIZERS["adam"], dtype=np.float32)
    compiled = cr.compile(step)
    batches = _batches(3, rows=6, dtype=np.float32) + _batches(3, rows=2, dtype=np.float32)
    for x, t in batches + batches:
        assert eager(x, t).item() == compiled(x, t).item()
    assert compiled.traces == 3  # state created, then one trace per batch size
    x64 = cr.tensor(batches[0][0].data.astype(np.float64))
    assert eager(x64, batches[0][1]).item() == compiled(x64, batches[0][1]).item()
    assert compiled.traces == 4
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.data, p2.data)


def test_replaced_parameter_array_retraces():
    model, _, step = _setup(OPTIMIZERS["sgd"])
    compiled = cr.compile(step)
    x, t = _batches(1)[0]
    compiled(x, t)
    compiled(x, t)
    compiled(x, t)
    assert compiled.traces == 2
    model[0].weight.data = model[0].weight.data.copy()
    compiled(x, t)
    assert compiled.traces == 2  # a new array of the same shape and dtype: read live
    model[0].weight.data = model[0].weight.data.astype(np.float32)
    compiled(x, t)
    assert compiled.traces == 3


def test_manual_update_with_comparisons_and_in_place_ops():
    def make():
        w = cr.tensor(np.linspace(-1, 1, 5), requires_grad=True)

        def step(x):
            w.grad = None
            e = (cr.where(w > 0, w * x, -w) ** 2).sum()
            e.backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
            return e, w.grad

        return w, step

    w1, eager = make()
    w2, step = make()
    compiled = cr.compile(step)
    for k in range(4):
        x = cr.tensor(np.full(5, 1.0 + k))
        (e1, g1), (e2, g2) = eager(x), compiled(x)
        assert e1.item() == e2.item()
        np.testing.assert_array_equal(g1.numpy(), g2.numpy())
    np.testing.assert_array_equal(w1.data, w2.data)


@pytest.mark.parametrize("body, what", [
    (lambda e: e.item(), ".item()"),
    (lambda e: float(e), "float(tensor)"),
    (lambda e: 1 if e > 1 else 0, "bool(tensor)"),
    (lambda e: e.numpy(), ".numpy()"),
    (lambda e: np.asarray(e), "np.asarray(tensor)"),
])
def test_refuses_reading_values(body, what):
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        e = (w * x).sum()
        body(e)
        e.backward()

    with pytest.raises(CompileError, match=r"cr.compile: .* reads a traced value") as info:
        cr.compile(step)(cr.tensor([1.0, 1.0]))
    assert what in str(info.value)
    assert "test_compile.py" in str(info.value)  # names the user's line
    assert isinstance(w.data, np.ndarray)  # a refused trace leaves eager mode working
    assert (w * 2).sum().item() == 6.0


def test_create_graph_inside_the_step_is_traced_like_any_op():
    def make():
        w = cr.tensor([1.0, 2.0], requires_grad=True)

        def step(x):
            w.grad = None
            (g,) = cr.grad((w * w * x).sum(), [w], create_graph=True)
            (g * g).sum().backward()  # a gradient of the gradient
            return g, w.grad

        return step

    eager, compiled = make(), cr.compile(make())
    for k in range(4):
        x = cr.tensor([1.0 + k, -1.0])
        (g1, h1), (g2, h2) = eager(x), compiled(x)
        np.testing.assert_array_equal(g1.numpy(), g2.numpy())
        np.testing.assert_array_equal(h1.numpy(), h2.numpy())


def test_refuses_bad_arguments():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(CompileError, match="requires grad"):
        cr.compile(lambda x: x * 2)(w)
    with pytest.raises(CompileError, match="returned a set"):
        cr.compile(lambda x: {x})(cr.tensor([1.0]))
    assert cr.compile(lambda x: 1.5)(cr.tensor([1.0])) == 1.5  # a constant
    with pytest.raises(TypeError, match="expected a function"):
        cr.compile(3)


def test_intermediates_are_freed():
    _, _, step = _setup(OPTIMIZERS["sgd"])
    compiled = cr.compile(step)
    x, t = _batches(1)[0]
    compiled(x, t)
    compiled(x, t)
    assert "del " in compiled.source


def test_replay_is_flat_numpy_without_vjp_functions():
    _, _, step = _setup(OPTIMIZERS["sgd"])
    compiled = cr.compile(step)
    x, t = _batches(1)[0]
    compiled(x, t)
    compiled(x, t)
    replay = next(iter(compiled.cache.values()))[0]
    vjps = {id(f) for op in cr.OPS.values() for f in op.vjps}
    called = [replay.__globals__[c] for c in set(re.findall(r"\b(c\d+)\(", compiled.source))]
    assert called and not [f for f in called if id(f) in vjps]
    assert "._grad = " in compiled.source and "out=" in compiled.source  # SGD, flat


def test_learning_rate_changed_between_calls_is_used():
    m1, o1, eager = _setup(OPTIMIZERS["sgd"])
    m2, o2, step = _setup(OPTIMIZERS["sgd"])
    compiled = cr.compile(step)
    s1 = cr.optim.lr_scheduler.StepLR(o1, step_size=1, gamma=0.5)
    s2 = cr.optim.lr_scheduler.StepLR(o2, step_size=1, gamma=0.5)
    for x, t in _batches(4):
        assert eager(x, t).item() == compiled(x, t).item()
        s1.step()
        s2.step()
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.data, p2.data)
    assert compiled.traces == 2  # the learning rate is read live, not guarded


def test_momentum_switched_on_after_tracing_retraces():
    m1, o1, eager = _setup(OPTIMIZERS["sgd"])
    m2, o2, step = _setup(OPTIMIZERS["sgd"])
    compiled = cr.compile(step)
    batches = _batches(4)
    for k, (x, t) in enumerate(batches):
        if k == 2:
            o1.param_groups[0]["momentum"] = o2.param_groups[0]["momentum"] = 0.9
        assert eager(x, t).item() == compiled(x, t).item()
    # state made, then grads found; momentum on (a guard on it), then its buffer found
    assert compiled.traces == 4
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.data, p2.data)


def test_gradients_are_new_arrays_each_call_and_unused_work_is_left_out():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        unused = (x * 3.0).sum()  # noqa: F841 (dead: not in the replay)
        e = w.sum() * 2.0  # the gradient comes from the backward's seed alone: a constant
        e.backward()
        return e

    compiled = cr.compile(step)
    x = cr.tensor([1.0, 1.0])
    compiled(x)
    g1, w.grad = w.grad, None
    compiled(x)
    assert w.grad.data is not g1.data
    w.grad.data[...] = 0  # changing one call's gradient in place leaves later calls alone
    w.grad = None
    compiled(x)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
    assert compiled.source.count("a0") == 1  # x is only used by the dead line: never read


def test_returned_values_computed_once_are_copied_per_call():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        (g,) = cr.grad(w.sum() * 2.0, [w])  # from the seed alone: folded at trace time
        return g

    compiled = cr.compile(step)
    x = cr.tensor([1.0])
    compiled(x).data[...] = 7
    compiled(x).data[...] = 5
    np.testing.assert_array_equal(compiled(x).numpy(), [2.0, 2.0])


def test_grad_reset_by_assignment_inside_the_step_is_replayed():
    def make():
        w = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            w.grad = None  # a manual reset instead of opt.zero_grad()
            e = ((w * x).tanh() ** 2).sum()
            e.backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
            return e

        return w, step

    w1, eager = make()
    w2, step = make()
    compiled = cr.compile(step)
    for k in range(5):
        x = cr.tensor([1.0, 2.0, 0.5 + k])
        assert eager(x).item() == compiled(x).item()
        np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
    np.testing.assert_array_equal(w1.data, w2.data)


def test_assigning_a_tensor_to_grad_is_replayed():
    def make():
        w = cr.tensor([1.0, 2.0], requires_grad=True)

        def step(x):
            w.grad = cr.zeros(2)  # a fresh array at every call
            e = (w * x).sum()
            e.backward()
            return e, w.grad

        return w, step

    w1, eager = make()
    w2, compiled = make()
    compiled = cr.compile(compiled)
    for k in range(3):
        x = cr.tensor([1.0, float(k)])
        (e1, g1), (e2, g2) = eager(x), compiled(x)
        assert e1.item() == e2.item()
        np.testing.assert_array_equal(g1.numpy(), g2.numpy())
        np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
    w2.grad.data[...] = 5  # the zeros are made afresh: the next call is unaffected
    np.testing.assert_array_equal(compiled(x)[1].numpy(), [1.0, 2.0])
