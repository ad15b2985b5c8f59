"""Module, Parameter and Sequential: registration, names, modes, state dicts, repr."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def text_net(seed=0, on=None):
    rng = np.random.default_rng(seed)
    net = nn.Sequential(nn.Linear(1, 3, generator=rng), nn.Tanh(), nn.Linear(3, 1, generator=rng))
    return net if on is None else on.module(net)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.out = nn.Linear(4, 1, bias=False)
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        return self.out(cr.tanh(self.hidden(x))) * self.scale


def test_parameter_is_a_float_tensor_that_requires_grad(on):
    p = nn.Parameter(on.array([1, 2, 3]))
    assert isinstance(p, cr.Tensor)
    assert p.requires_grad and p.dtype == np.float64
    np.testing.assert_array_equal(on.host(p), [1.0, 2.0, 3.0])
    assert nn.Parameter(on.array(np.zeros(2, np.float32))).dtype == np.float32
    assert not nn.Parameter(on.array(np.zeros(2)), requires_grad=False).requires_grad


def test_named_parameters_in_registration_order_with_dotted_names():
    net = text_net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [p.shape for p in net.parameters()] == [(3, 1), (3,), (1, 3), (1,)]
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == ["scale", "hidden.weight", "hidden.bias",
                                                    "out.weight"]


def test_parameters_carry_their_names_for_graph_drawings():
    net = text_net()
    assert [p.name for p in net.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    outer = nn.Sequential(nn.Linear(2, 2), net)
    assert net[0].weight.name == "1.0.weight"
    assert outer[0].bias.name == "0.bias"


def test_shared_parameter_is_listed_once():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(net.parameters())) == 2


def test_children_modules_and_modes():
    m = TwoLayer()
    assert [n for n, _ in m.named_children()] == ["hidden", "out"]
    assert len(list(m.modules())) == 3
    assert m.training and m.hidden.training
    assert m.eval() is m
    assert not m.training and not m.hidden.training and not m.out.training
    m.train()
    assert m.out.training


def test_module_needs_super_init():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_state_dict_round_trip_copies_values(on):
    a, b = text_net(0, on), text_net(1, on)
    sd = a.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    a[0].weight.data[...] = 7.0  # a later change to the module does not change the copy
    assert not np.any(on.host(sd["0.weight"]) == 7.0)
    b.load_state_dict(sd)
    for (n, p), v in zip(b.named_parameters(), sd.values()):
        np.testing.assert_array_equal(on.host(p), on.host(v), err_msg=n)


def test_load_state_dict_accepts_arrays_and_bumps_versions(on):
    net = text_net(0, on)
    v0 = net[0].weight._version
    data = net[0].weight.data
    # host arrays are copied onto the parameters' device, into the same arrays
    net.load_state_dict({k: on.host(v) * 2 for k, v in net.state_dict().items()})
    assert net[0].weight._version > v0 and net[0].weight.data is data
    np.testing.assert_array_equal(on.host(net[0].weight), 2 * text_net(0)[0].weight.numpy())


def test_load_state_dict_names_missing_and_unexpected_entries(on):
    net = text_net(0, on)
    sd = net.state_dict()
    del sd["2.bias"]
    sd["3.weight"] = on.array(np.zeros((1, 1)))
    with pytest.raises(nn.StateDictError, match="missing '2.bias'.*unexpected '3.weight'"):
        net.load_state_dict(sd)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["2.bias"] and unexpected == ["3.weight"]


def test_load_state_dict_mis_shaped_entry_changes_nothing(on):
    net = text_net(0, on)
    before = [on.host(p).copy() for p in net.parameters()]
    sd = {k: on.array(on.host(v) + 1) for k, v in net.state_dict().items()}
    sd["2.weight"] = on.array(np.zeros((3, 1)))
    with pytest.raises(nn.StateDictError, match=r"'2.weight' has shape \(3, 1\).*\(1, 3\)"):
        net.load_state_dict(sd)
    for p, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(on.host(p), b)


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(nn.StateDictError, match="dict of name"):
        text_net().load_state_dict([1, 2])


def test_state_dict_survives_save_and_load(tmp_path, on):
    a, b = text_net(0, on), text_net(1, on)
    cr.save({k: on.host(v) for k, v in a.state_dict().items()}, tmp_path / "net.npz")
    b.load_state_dict(cr.load(tmp_path / "net.npz"))  # host values onto the device
    x = on.tensor(np.linspace(-1, 1, 7).reshape(-1, 1))
    np.testing.assert_array_equal(on.host(a(x)), on.host(b(x)))


def test_repr_reads_like_pytorch():
    assert repr(text_net()) == (
        "Sequential(\n"
        "  (0): Linear(in_features=1, out_features=3, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Linear(in_features=3, out_features=1, bias=True)\n"
        ")"
    )
    assert "(hidden): Linear(in_features=2, out_features=4, bias=True)" in repr(TwoLayer())


def test_sequential_indexing_len_iteration_and_type_check():
    net = text_net()
    assert len(net) == 3 and isinstance(net[1], nn.Tanh) and isinstance(net[-1], nn.Linear)
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear"]
    assert len(net[:2]) == 2
    with pytest.raises(TypeError, match="argument 1 must be a Module"):
        nn.Sequential(nn.Tanh(), lambda x: x)


def test_module_zero_grad(on):
    net = text_net(0, on)
    net(on.tensor([[0.5]])).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(on.host(p.grad) == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
