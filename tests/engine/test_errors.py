"""Bad input gets a clear error: each case checks the message, not only the type."""

import re

import numpy as np
import pytest

import chainrule as cr


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize(
    "make, op, shapes",
    [
        (lambda: cr.ones(2, 3) + cr.ones(4), "add", ["(2, 3)", "(4,)"]),
        (lambda: cr.ones(2, 3) * np.ones((3, 2)), "mul", ["(2, 3)", "(3, 2)"]),
        (lambda: cr.ones(2, 3) @ cr.ones(4, 5), "matmul", ["(2, 3)", "(4, 5)"]),
        (lambda: cr.ones(3) @ cr.ones(4), "matmul", ["(3,)", "(4,)"]),
        (lambda: cr.ones(2, 2, 3) @ cr.ones(3, 2, 1), "matmul", ["(2, 2, 3)", "(3, 2, 1)"]),
        (lambda: cr.concatenate([cr.ones(2, 3), cr.ones(2, 4)]), "concatenate",
         ["(2, 3)", "(2, 4)"]),
        (lambda: cr.stack([cr.ones(2, 3), cr.ones(3, 2)]), "stack", ["(2, 3)", "(3, 2)"]),
        (lambda: cr.where(np.ones(2, bool), cr.ones(3), 0.0), "where", ["(3,)"]),
        (lambda: cr.ones(2, 3).reshape(4), "reshape", ["(2, 3)"]),
        (lambda: cr.maximum(cr.ones(2), cr.ones(3)), "maximum", ["(2,)", "(3,)"]),
    ],
    ids=["add", "mul-array", "matmul-2d", "matmul-1d", "matmul-batch", "concatenate", "stack",
         "where", "reshape", "maximum"],
)
def test_shape_mismatch_names_op_and_shapes(make, op, shapes):
    with pytest.raises(cr.ShapeError) as err:
        make()
    msg = str(err.value)
    assert msg.startswith(op + ":") or f"'{op}'" in msg or f"{op}:" in msg, msg
    for s in shapes:
        assert s in msg, msg
    assert isinstance(err.value, ValueError)  # catchable as NumPy's error type too


def test_shape_mismatch_with_requires_grad_operands():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((3, 3)))
    with pytest.raises(cr.ShapeError, match=r"add.*\(2, 3\).*\(3, 3\)"):
        a + b


@pytest.mark.parametrize(
    "make, where",
    [
        (lambda: cr.sum(cr.ones(2, 3), axis=2), "sum"),
        (lambda: cr.ones(2, 3).mean(dim=-3), "mean"),
        (lambda: cr.max(cr.ones(2, 3), axis=(0, 5)), "max"),
        (lambda: cr.softmax(cr.ones(2, 3), axis=2), "softmax"),
        (lambda: cr.log_softmax(cr.ones(2, 3), dim=-3), "log_softmax"),
        (lambda: cr.concatenate([cr.ones(2), cr.ones(2)], axis=1), "concatenate"),
        (lambda: cr.stack([cr.ones(2), cr.ones(2)], axis=3), "stack"),
        (lambda: cr.sum(cr.tensor(1.0), axis=0), "sum"),
        (lambda: cr.expand_dims(cr.ones(2), 3), "expand_dims"),
        (lambda: cr.swapaxes(cr.ones(2, 2), 0, 2), "swapaxes"),
    ],
)
def test_axis_out_of_range_names_axis_and_shape(make, where):
    with pytest.raises(cr.ShapeError) as err:
        make()
    msg = str(err.value)
    assert msg.startswith(where + ":"), msg
    assert "out of range" in msg and re.search(r"axis -?\d", msg), msg
    assert "shape (" in msg, msg


def test_bad_axis_type_and_repeated_axis():
    with pytest.raises(TypeError, match=r"sum: axis must be an int or a tuple of ints, got 1\.5"):
        cr.sum(cr.ones(2), axis=1.5)
    with pytest.raises(ValueError, match="axis 0 repeated"):
        cr.sum(cr.ones(2, 2), axis=(0, -2))


def test_index_out_of_range_names_op_and_shape():
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\).*index 5 is out of bounds"):
        cr.ones(2, 3)[5]


# ------------------------------------------------------------------ backward
def test_backward_on_non_scalar_says_what_to_pass():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(cr.BackwardError) as err:
        y.backward()
    msg = str(err.value)
    assert "(2, 3)" in msg
    assert "pass the gradient" in msg and "backward(" in msg and ".sum().backward()" in msg


def test_backward_with_wrong_gradient_shape():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(cr.BackwardError, match=r"shape \(3,\).*output has shape \(2, 3\)"):
        y.backward(np.ones(3))


def test_second_backward_through_freed_graph_says_retain_graph():
    x = leaf([1.0, 2.0])
    y = cr.exp(x).sum()
    y.backward()
    with pytest.raises(cr.BackwardError) as err:
        y.backward()
    assert "retain_graph=True" in str(err.value) and "second time" in str(err.value)
    z = cr.exp(x)
    w = z.sum()
    cr.grad(w, x)  # cr.grad frees too
    with pytest.raises(cr.BackwardError, match="retain_graph=True"):
        cr.grad(w, x)


def test_backward_on_tensor_without_grad():
    with pytest.raises(cr.BackwardError, match="does not require grad.*requires_grad=True"):
        cr.tensor([1.0]).sum().backward()
    x = leaf([1.0])
    with cr.no_grad():
        y = (x * 2).sum()
    with pytest.raises(cr.BackwardError, match="no_grad"):
        y.backward()


def test_grad_unused_input_says_allow_unused():
    x, z = leaf([1.0]), leaf([2.0])
    with pytest.raises(cr.BackwardError, match=r"inputs\[1\].*not used.*allow_unused=True"):
        cr.grad((x * 2).sum(), [x, z])


def test_grad_wrt_tensor_without_grad():
    x = leaf([1.0])
    with pytest.raises(cr.BackwardError, match=r"inputs\[1\].*does not require grad"):
        cr.grad((x * 2).sum(), [x, cr.tensor([1.0])])


# ------------------------------------------------------------- in-place changes
def test_in_place_under_no_grad_after_op_saved_it_raises_naming_op():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    with cr.no_grad():
        x += 1
    with pytest.raises(cr.BackwardError) as err:
        y.backward()
    msg = str(err.value)
    assert "'mul'" in msg and "in place" in msg and "(2,)" in msg


def test_add_underscore_after_op_saved_it_raises_naming_op():
    x = cr.tensor([1.0, 2.0])  # a constant: its in-place change still spoils w's gradient
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    x.add_(1)
    with pytest.raises(cr.BackwardError, match=r"'mul'.*changed in place"):
        y.backward()


@pytest.mark.parametrize("change", [
    lambda t: t.mul_(2), lambda t: t.sub_(1), lambda t: t.div_(2), lambda t: t.zero_(),
    lambda t: t.fill_(3.0), lambda t: t.copy_(np.ones(2)), lambda t: t.__setitem__(0, 5.0),
])
def test_every_in_place_method_is_detected(change):
    x = leaf([1.0, 2.0])
    y = cr.exp(x * 3.0).sum()  # mul saved x
    with cr.no_grad():
        change(x)
    with pytest.raises(cr.BackwardError, match="'mul'.*changed in place"):
        y.backward()


def test_in_place_on_leaf_requiring_grad_while_recording():
    x = leaf([1.0, 2.0])
    with pytest.raises(cr.BackwardError, match=r"add_.*leaf.*cr\.no_grad"):
        x.add_(1)
    with pytest.raises(cr.BackwardError, match=r"\+=.*leaf.*cr\.no_grad"):
        x += 1


def test_in_place_on_saved_output_under_no_grad_keeps_gradients_right():
    # exp's backward reads its output; changing it under no_grad must not corrupt that
    xv = np.array([0.0, 1.0])
    x = leaf(xv)
    y = cr.exp(x)
    with cr.no_grad():
        y += 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xv))
    np.testing.assert_allclose(y.numpy(), np.exp(xv) + 1)


def test_in_place_after_backward_is_fine():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    with cr.no_grad():
        x -= 0.1 * x.grad  # the optimiser's update
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 2 * x.numpy())


# ------------------------------------------------------------- unsupported input
@pytest.mark.parametrize(
    "make, type_name",
    [
        (lambda: cr.tensor("a"), "str"),
        (lambda: cr.tensor(None), "NoneType"),
        (lambda: cr.tensor({"a": 1}), "dict"),
        (lambda: cr.tensor([[1.0, 2.0], [3.0]]), "list"),
        (lambda: cr.tensor(np.array([1, "a"], dtype=object)), "mixed type"),
        (lambda: cr.tensor(np.array([[1.0], [2.0, 3.0]], dtype=object)), "ragged"),
        (lambda: cr.Tensor("a"), "str"),
    ],
    ids=["str", "None", "dict", "ragged-list", "object-array", "ragged-object-array",
         "Tensor-str"],
)
def test_unsupported_data_names_type_and_what_is_supported(make, type_name):
    with pytest.raises(TypeError) as err:
        make()
    msg = str(err.value)
    assert type_name in msg, msg
    assert "NumPy array" in msg and "list" in msg and "number" in msg, msg


@pytest.mark.parametrize("make, dtype", [
    (lambda: cr.tensor(["a", "b"]), "<U1"),
    (lambda: cr.tensor(np.array([1 + 2j])), "complex128"),
])
def test_unsupported_dtype_names_dtype_and_supported_ones(make, dtype):
    with pytest.raises(TypeError) as err:
        make()
    assert dtype in str(err.value) and "floating-point" in str(err.value)


@pytest.mark.parametrize(
    "make, op, type_name",
    [
        (lambda t: t + "a", "add", "str"),
        (lambda t: "a" + t, "add", "str"),
        (lambda t: t * None, "mul", "NoneType"),
        (lambda t: t - {1: 2}, "sub", "dict"),
        (lambda t: t @ "ab", "matmul", "str"),
    ],
)
def test_unsupported_operand_names_type_and_what_is_supported(make, op, type_name):
    with pytest.raises(TypeError) as err:
        make(cr.ones(2))
    msg = str(err.value)
    assert msg.startswith(op + ":") and type_name in msg, msg
    assert "Tensor" in msg and "NumPy array" in msg and "Python number" in msg, msg


@pytest.mark.parametrize("make", [
    lambda: cr.tensor([1, 2], requires_grad=True),
    lambda: cr.tensor([1, 2]).requires_grad_(),
    lambda: cr.tensor([True], requires_grad=True),
    lambda: cr.arange(3, requires_grad=True),
])
def test_requires_grad_on_non_float_tensor(make):
    with pytest.raises(TypeError) as err:
        make()
    msg = str(err.value)
    assert "floating-point" in msg and re.search(r"int64|bool", msg), msg
    assert "dtype=" in msg  # says how to convert


def test_misc_usage_errors():
    with pytest.raises(ValueError, match=r"item\(\).*shape \(2,\)"):
        cr.ones(2).item()
    with pytest.raises(TypeError, match="concatenate: expected a list or tuple of tensors"):
        cr.concatenate(cr.ones(2))
    with pytest.raises(ValueError, match="at least one tensor"):
        cr.stack([])
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        cr.clip(cr.ones(2))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.ones(2))
    with pytest.raises(ValueError, match="no input requires grad"):
        cr.gradcheck(lambda a: a * 2, [cr.ones(2)])
