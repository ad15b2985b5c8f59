"""Issue 9's numbered cases: each compiled step equals the eager one bitwise, or is refused
at trace time with a message naming the user's line."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import CompileError, CompileWarning
from compile_helpers import run_both, snapshot

F = cr.nn.functional


def _batches(n, rows=5, cols=3, seed=0, dtype=np.float64):
    gen = np.random.default_rng(seed)
    return [(gen.normal(size=(rows, cols)).astype(dtype),
             gen.normal(size=(rows, 2)).astype(dtype)) for _ in range(n)]


def _net(seed=0):
    gen = np.random.default_rng(seed)
    return cr.nn.Sequential(cr.nn.Linear(3, 4, generator=gen), cr.nn.Tanh(),
                            cr.nn.Linear(4, 2, generator=gen))


# 1 ---------------------------------------------------------------------------------
def test_case1_tensor_of_numpy_input_and_factories_inside_the_step():
    def make():
        net = _net()
        opt = cr.optim.SGD(net.parameters(), lr=0.1)

        def step(x, t):
            opt.zero_grad()
            noise = cr.zeros_like(cr.tensor(x)) + cr.ones(x.shape) * 0.01
            y = net(cr.tensor(x) + noise)
            loss = F.mse_loss(y, cr.tensor(t))
            loss.backward()
            opt.step()
            return loss

        return step, lambda: snapshot(list(net.parameters()), opt)

    compiled = run_both(make, _batches(5))
    assert compiled.traces <= 2


def test_case1_random_factory_with_a_seed_and_without():
    def make(seed=3):
        w = cr.tensor(np.ones(3), requires_grad=True)

        def step(x):
            w.grad = None
            e = ((w * cr.tensor(x) + cr.randn(3, seed=seed)) ** 2).sum()
            e.backward()
            with cr.no_grad():
                w.sub_(0.01 * w.grad)
            return e

        return step, lambda: snapshot([w])

    run_both(make, [(np.full(3, float(k)),) for k in range(4)])


# 2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("zero_grad", [True, False])
def test_case2_manual_update_reads_this_calls_gradient(zero_grad):
    def make():
        gen = np.random.default_rng(1)
        W = cr.tensor(gen.normal(size=(3, 2)), requires_grad=True)
        b = cr.tensor(np.zeros(2), requires_grad=True)  # broadcast against the batch
        lr = 0.05

        def step(x, t):
            if zero_grad:
                W.grad = None
                b.grad = None
            loss = 0.5 * ((x @ W + b - t) ** 2).sum()
            loss.backward()
            with cr.no_grad():
                W.sub_(lr * W.grad)
                b.sub_(lr * b.grad)
            return loss

        return step, lambda: snapshot([W, b])

    run_both(make, [(cr.tensor(x), cr.tensor(t)) for x, t in _batches(5)])


# 3 ---------------------------------------------------------------------------------
def test_case3_explicit_seeds_are_read_at_every_call():
    def make():
        w = cr.tensor(np.linspace(-1, 1, 4), requires_grad=True)

        def step(x, g):
            w.grad = None
            y = w * x
            y.backward(g)
            (gx,) = cr.grad((w * w * x).sum() * 1.0, [w])
            (gy,) = cr.grad(w * x, [w], grad_outputs=g)
            return w.grad, gx, gy

        return step, lambda: snapshot([w])

    gen = np.random.default_rng(2)
    run_both(make, [(cr.tensor(gen.normal(size=4)), cr.tensor(gen.normal(size=4)))
                    for _ in range(4)])


# 4 ---------------------------------------------------------------------------------
def test_case4_where_with_a_float_mask_and_float_class_targets():
    def make():
        net = cr.nn.Linear(3, 3, generator=np.random.default_rng(0))
        opt = cr.optim.SGD(net.parameters(), lr=0.1)

        def step(x, mask, t):
            opt.zero_grad()
            y = cr.where(mask, net(x), 0.0)  # a float mask, converted inside the trace
            loss = F.cross_entropy(y, t)  # float targets holding integers
            loss.backward()
            opt.step()
            return loss

        return step, lambda: snapshot(list(net.parameters()), opt)

    gen = np.random.default_rng(4)
    calls = [(cr.tensor(gen.normal(size=(6, 3))),
              cr.tensor((gen.random((6, 1)) > 0.5).astype(np.float64)),
              cr.tensor(gen.integers(0, 3, 6).astype(np.float64))) for _ in range(5)]
    run_both(make, calls)


def test_case4_targets_out_of_range_at_a_later_call_raise_as_eager():
    net = cr.nn.Linear(3, 3, generator=np.random.default_rng(0))

    def step(x, t):
        return F.cross_entropy(net(x), t)

    compiled = cr.compile(step)
    x = cr.tensor(np.ones((2, 3)))
    compiled(x, cr.tensor([0, 1]))
    compiled(x, cr.tensor([1, 2]))
    with pytest.raises(IndexError, match="out of range"):  # the replay's guard fails,
        compiled(x, cr.tensor([0, 5]))                       # the eager trace raises


# 5 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("clip", ["norm", "norm-inf", "value"])
def test_case5_gradient_clipping_inside_the_step(clip):
    def make():
        net = _net()
        opt = cr.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, t):
            opt.zero_grad()
            loss = F.mse_loss(net(x), t, reduction="sum")
            loss.backward()
            if clip == "norm":
                cr.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            elif clip == "norm-inf":
                cr.nn.utils.clip_grad_norm_(net.parameters(), 0.3, norm_type=float("inf"))
            else:
                cr.nn.utils.clip_grad_value_(net.parameters(), 0.1)
            opt.step()
            return loss

        return step, lambda: snapshot(list(net.parameters()), opt)

    run_both(make, [(cr.tensor(x * 3), cr.tensor(t)) for x, t in _batches(5)])


# 6 ---------------------------------------------------------------------------------
def test_case6_retained_gradient_of_a_non_leaf():
    def make():
        w = cr.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)

        def step(x):
            w.grad = None
            h = (w * x).tanh()
            h.retain_grad()
            (h * h).sum().backward()
            return h.grad

        return step, lambda: snapshot([w])

    run_both(make, [(cr.tensor(np.full(3, 0.3 * k)),) for k in range(4)])


# 7 ---------------------------------------------------------------------------------
def test_case7_a_branch_on_data_is_refused_naming_the_line():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        e = (w * x).sum()
        if (x.data > 0).all():  # the line named in the error
            e = e * 2
        return e

    with pytest.raises(CompileError, match=r"test_compile_issue9.py:\d+ in step: if \(x.data"):
        cr.compile(step)(cr.tensor([1.0, 1.0]))
    assert isinstance(w.data, np.ndarray)  # state is concrete again after a refusal
    assert (w * 2).sum().item() == 6.0


def test_case7_reading_data_then_numpy_in_python_is_refused():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        s = float(np.sum(x.data))
        return (w * s).sum()

    with pytest.raises(CompileError, match="float"):
        cr.compile(step)(cr.tensor([1.0, 1.0]))


# 8 ---------------------------------------------------------------------------------
def test_case8_cache_is_bounded_and_warns_when_retracing():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    def step(x, k):
        return (w * x * k).sum()

    compiled = cr.compile(step, cache_size=3)
    x = cr.tensor([1.0, 1.0])
    with pytest.warns(CompileWarning, match="traced 4 times"):
        for k in range(10):
            assert compiled(x, k).item() == 3.0 * k
    assert sum(len(v) for v in compiled.cache.values()) <= 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compiled(x, 9).item() == 27.0  # the most recent traces are kept
    with pytest.raises(ValueError, match="cache_size"):
        cr.compile(step, cache_size=0)


# 9 ---------------------------------------------------------------------------------
def test_case9_grad_zero_in_the_step():
    def make():
        w = cr.tensor(np.array([0.5, -1.0]), requires_grad=True)

        def step(x):
            if w.grad is not None:
                w.grad.zero_()
            e = (w * w * x).sum()
            e.backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
            return e

        return step, lambda: snapshot([w])

    run_both(make, [(cr.tensor(np.full(2, 1.0 + k)),) for k in range(5)])


def test_case9_bce_with_a_numpy_target():
    def make():
        net = cr.nn.Linear(3, 2, generator=np.random.default_rng(0))
        opt = cr.optim.Adam(net.parameters(), lr=0.01)

        def step(x, t):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(net(x), t)
            loss.backward()
            opt.step()
            return loss

        return step, lambda: snapshot(list(net.parameters()), opt)

    gen = np.random.default_rng(5)
    run_both(make, [(cr.tensor(gen.normal(size=(4, 3))),
                     (gen.random((4, 2)) > 0.5).astype(np.float64)) for _ in range(5)])


def test_case9_generator_passed_in_advances_as_eager():
    def make():
        w = cr.tensor(np.ones(3), requires_grad=True)

        def step(x, g):
            w.grad = None
            e = ((w * x + cr.randn(3, generator=g)) ** 2).sum()
            e.backward()
            with cr.no_grad():
                w.sub_(0.01 * w.grad)
            return e

        return step, lambda: snapshot([w])

    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    eager, state_e = make()
    step, state_c = make()
    compiled = cr.compile(step)
    for k in range(4):
        x = cr.tensor(np.full(3, float(k)))
        assert eager(x, g1).item() == compiled(x, g2).item()
        np.testing.assert_array_equal(state_e()["params"][0], state_c()["params"][0])
    assert g1.random() == g2.random()


def test_case9_global_generator_used_directly_is_drawn_at_every_call():
    rng_e, rng_c = np.random.default_rng(3), np.random.default_rng(3)

    def make(rng):
        w = cr.tensor(np.ones(3), requires_grad=True)

        def step(x):
            w.grad = None
            noise = rng.normal(size=3)
            e = ((w * x + noise) ** 2).sum()
            e.backward()
            return e

        return step

    eager, step = make(rng_e), make(rng_c)
    compiled = cr.compile(step)
    for k in range(4):
        x = cr.tensor(np.full(3, float(k)))
        assert eager(x).item() == compiled(x).item()


# state reached in other ways --------------------------------------------------------
def test_a_model_passed_as_an_argument_is_state():
    def make():
        net = _net()
        opt = cr.optim.SGD(net.parameters(), lr=0.1, momentum=0.5)

        def step(model, x, t):
            opt.zero_grad()
            loss = F.mse_loss(model(x), t)
            loss.backward()
            opt.step()
            return loss

        return (lambda x, t: step(net, x, t)), net, opt, step

    _, net1, opt1, eager = make()
    _, net2, opt2, step = make()
    compiled = cr.compile(step)
    for x, t in _batches(4):
        x, t = cr.tensor(x), cr.tensor(t)
        assert eager(net1, x, t).item() == compiled(net2, x, t).item()
    for p1, p2 in zip(net1.parameters(), net2.parameters()):
        np.testing.assert_array_equal(p1.data, p2.data)


def test_a_tensor_created_in_the_step_that_gets_a_gradient_is_refused():
    def step(x):
        w = cr.tensor(np.ones(2), requires_grad=True)
        (w * x).sum().backward()
        return w.grad

    with pytest.raises(CompileError, match="not reachable from the step"):
        cr.compile(step)(cr.tensor([1.0, 2.0]))
    assert type(cr.Tensor.__dict__["_grad"]).__name__ == "member_descriptor"


def test_state_in_a_user_module_named_by_the_step(tmp_path, monkeypatch):
    (tmp_path / "mystate_for_compile.py").write_text(
        "import numpy as np\nimport chainrule as cr\n"
        "w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import mystate_for_compile as mod

    def step(x):
        mod.w.grad = None
        e = (mod.w * mod.w * x).sum()
        e.backward()
        with cr.no_grad():
            mod.w.sub_(0.1 * mod.w.grad)
        return e

    compiled = cr.compile(step)
    w = mod.w.data.copy()
    for k in range(4):
        x = np.array([1.0, 0.5 * k])
        expected = float(((w * w) * x).sum())
        assert compiled(cr.tensor(x)).item() == expected
        w = w - 0.1 * (2 * w * x)
        np.testing.assert_array_equal(mod.w.data, w)
