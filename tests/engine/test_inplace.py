"""In place means in place: ``h -= v`` on a recorded tensor records an in-place op on ``h``
itself; writing a tensor that requires grad into a constant records the write; the version
check fires only for what an op's VJP reads. Programs run side by side in PyTorch when it
is installed, and are gradchecked (finite differences) either way."""

import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:  # the gradchecks and closed forms below still run
    torch = None


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


class Lib:
    """What the programs need from a library: chainrule or PyTorch, in float64."""

    def __init__(self, mod):
        self.mod = mod

    def tensor(self, a, grad=False):
        if self.mod is cr:
            return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)
        return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)

    def zeros(self, n):
        return self.tensor(np.zeros(n))

    def grads(self, out, xs):
        out.backward()
        return [np.asarray(x.grad.detach().numpy() if self.mod is not cr else x.grad.numpy())
                for x in xs]


LIBS = [Lib(cr)] + ([Lib(torch)] if torch is not None else [])


def program_chain(lib, x, v):
    h = x * 2.0
    alias, held = h, [h]
    h -= v
    h *= x
    h /= v
    h[0] = v[1] * 3.0
    assert h is alias and held[0] is h  # the same object throughout
    return (h.tanh() * h).sum()


def program_consumer_first(lib, x, v):
    h = x * 3.0
    c = h + 1.0  # add's VJP reads nothing: h may change in place afterwards
    h -= v
    return c.sum() + (h * h).sum()


def program_into_constants(lib, x, v):
    acc = lib.zeros(3)
    acc += x
    acc += v * x
    buf = lib.zeros(5)
    buf[1:4] = x
    b = lib.zeros(3)
    b.copy_(v)
    return (acc * acc).sum() + (buf * buf).sum() + (b * x).sum()


def program_add_alpha(lib, x, v):
    h = x * 1.0
    h.add_(v, alpha=2.0)
    h.sub_(x, alpha=0.5)
    return (h * h).sum()


PROGRAMS = [program_chain, program_consumer_first, program_into_constants, program_add_alpha]
XV, VV = np.array([0.3, -0.7, 1.1]), np.array([1.5, -0.8, 2.0])


@pytest.mark.parametrize("program", PROGRAMS)
def test_in_place_programs_gradcheck(program):
    lib = Lib(cr)
    x, v = leaf(XV), leaf(VV)
    assert cr.gradcheck(lambda a, b: program(lib, a, b), [x, v])
    assert cr.gradgradcheck(lambda a, b: program(lib, a, b), [x, v])


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
@pytest.mark.parametrize("program", PROGRAMS)
def test_in_place_programs_match_pytorch(program):
    results = []
    for lib in LIBS:
        x, v = lib.tensor(XV, True), lib.tensor(VV, True)
        out = program(lib, x, v)
        results.append((float(out.item()), lib.grads(out, [x, v])))
    (value, grads), (tvalue, tgrads) = results
    np.testing.assert_allclose(value, tvalue, rtol=1e-13)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-14)


def test_consumer_before_in_place_gets_the_old_value_s_gradient():
    x, v = leaf(XV), leaf(VV)
    program_consumer_first(Lib(cr), x, v).backward()
    h = 3 * XV - VV
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * h * 3)  # c's path does not reach v
    np.testing.assert_allclose(v.grad.numpy(), -2 * h)


def test_writing_into_a_constant_sends_gradients_to_what_was_written():
    x = leaf(XV)
    buf = cr.zeros(5)
    buf[1:4] = x
    assert buf.requires_grad and not buf.is_leaf
    (buf * cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0, 4.0])


def test_in_place_op_is_recorded_and_drawn_under_its_own_name():
    h = leaf(XV) * 2.0
    h -= leaf(VV)
    assert h.grad_fn.op.name == "sub_" and h.grad_fn.op.inplace
    g = cr.viz.draw_graph(h.sum(), group="full")
    assert {n.label for n in g.find(kind="op")} >= {"mul", "sub_", "sum"}


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "sqrt"])
def test_ops_that_read_their_output_allow_changing_their_input(op):
    x = leaf([0.2, 0.9])
    h = x * 1.0
    y = getattr(cr, op)(h)
    h += 1.0  # recorded; y's VJP reads y, not h
    (y.sum() + h.sum()).backward()
    d = {"exp": np.exp, "tanh": lambda a: 1 - np.tanh(a) ** 2,
         "sigmoid": lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2,
         "sqrt": lambda a: 0.5 / np.sqrt(a)}[op]
    np.testing.assert_allclose(x.grad.numpy(), d(np.array([0.2, 0.9])) + 1, rtol=1e-14)


@pytest.mark.parametrize("op", ["log", "sin", "relu", "abs"])
def test_ops_that_read_their_input_refuse_after_it_changed(op):
    x = leaf([0.2, 0.9])
    h = x * 1.0
    y = getattr(cr, op)(h)
    with cr.no_grad():
        h += 1.0
    with pytest.raises(cr.BackwardError, match=f"'{op}'.*changed in place"):
        y.sum().backward()


def test_mul_refuses_after_its_input_changed_in_place_while_recording():
    h = leaf(XV) * 1.0
    y = h * h
    h -= 1.0
    with pytest.raises(cr.BackwardError, match="'mul'.*changed in place"):
        y.sum().backward()


def test_leaf_requiring_grad_still_refuses_while_recording():
    x = leaf(XV)
    for change in (lambda: x.sub_(1.0), lambda: x.__setitem__(0, 1.0), lambda: x.copy_(XV)):
        with pytest.raises(cr.BackwardError, match="leaf.*cr.no_grad"):
            change()


def test_in_place_with_bad_shapes_names_the_op():
    h = leaf(XV) * 1.0
    with pytest.raises(cr.ShapeError, match="sub"):
        h -= cr.tensor(np.ones(4), requires_grad=True)
