"""Back-propagation: the chain rule run backwards over the recorded graph.

``backward`` orders the nodes reachable from the outputs (iteratively, so a chain of a
million ops is fine), then visits them from the outputs to the inputs. At each node the
op's VJPs turn the gradient of its output into gradients of its inputs; where a value
feeds several ops their contributions are summed (the text's remark under eq. 5.11).
"""

from __future__ import annotations

import functools
import linecache
import operator
import os
import sys
import weakref

import numpy as np

from .errors import AnomalyError, BackwardError
from .graph import Node, mode
from .tensor import StandIn, Tensor, _source, _traced, _wrap, as_array

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------- grad mode
class _GradMode:
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.prev = mode.grad_enabled
        mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self.prev
        return False

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(enabled):  # a fresh context per call: calls may nest
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager and decorator: operations inside are not recorded.

    Examples
    --------
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @cr.no_grad()
    ... def predict(x):
    ...     return w * x
    >>> predict(3.0).requires_grad
    False
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    """Context manager and decorator: record operations (inside ``no_grad`` too).

    Examples
    --------
    >>> w = cr.tensor(1.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     with cr.enable_grad():
    ...         y = w * 2
    >>> y.requires_grad
    True
    """

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """Switch recording on or off (``enabled``) in this thread, as PyTorch's: a plain call
    ``cr.set_grad_enabled(False)`` switches at once; as a context manager the previous
    mode comes back on exit; as a decorator it applies to each call.

    Examples
    --------
    >>> w = cr.tensor(1.0, requires_grad=True)
    >>> with cr.set_grad_enabled(False):
    ...     y = w * 2
    >>> y.requires_grad, cr.is_grad_enabled()
    (False, True)
    """

    def __init__(self, enabled):
        super().__init__(bool(enabled))
        self.prev = mode.grad_enabled
        mode.grad_enabled = self.enabled

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode.grad_enabled = self.prev  # a decorator: only its calls switch
        return super().__call__(fn)


def is_grad_enabled():
    """Whether operations are recorded now (process-wide; see :class:`no_grad`).

    Examples
    --------
    >>> cr.is_grad_enabled()
    True
    >>> with cr.no_grad():
    ...     cr.is_grad_enabled()
    False
    """
    return mode.grad_enabled


# ---------------------------------------------------------------------- anomalies
class detect_anomaly:
    """Context in which the first op producing NaN or Inf, in the forward or the
    backward pass, raises :class:`~chainrule.errors.AnomalyError` naming the op and the
    line of user code that created it.

    Examples
    --------
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> with cr.detect_anomaly(), np.errstate(all="ignore"):
    ...     try:
    ...         cr.sqrt(x).sum().backward()          # d√x/dx = ∞ at 0
    ...     except cr.AnomalyError as e:
    ...         print("caught:", str(e).split(",")[0])
    caught: backward of 'sqrt' produced NaN or Inf in the gradient of its input 0
    """

    def __enter__(self):
        self.prev = (mode.anomaly, mode.sites)
        mode.anomaly = True
        if mode.sites is None:
            mode.sites = weakref.WeakKeyDictionary()
        return self

    def __exit__(self, *exc):
        mode.anomaly, mode.sites = self.prev
        return False


def _user_site():
    """'file:line in function: source' of the innermost frame outside chainrule."""
    f = sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    src = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}: {src}"


def _foreign(a):
    return type(a) is not np.ndarray and _backend.of(a) is not None


def _finite(a):
    if _tensor._FOREIGN and _foreign(a):
        xp = _backend.of(a).xp
        return not xp.isdtype(a.dtype, "real floating") or bool(xp.all(xp.isfinite(a)))
    a = np.asarray(a)
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def _anomaly_forward(op, t):
    site = _user_site()
    if t._node is not None:
        mode.sites[t._node] = site
    if not _finite(t.data):
        raise AnomalyError(
            f"forward of '{op.name}' produced NaN or Inf (output shape {t.shape}), "
            f"created at {site}"
        )


def _anomaly_backward(node, i, g):
    if not _finite(g.data if isinstance(g, Tensor) else g):
        site = mode.sites.get(node, "<created outside detect_anomaly>")
        raise AnomalyError(
            f"backward of '{node.op.name}' produced NaN or Inf in the gradient of its input "
            f"{i}, for the op created at {site}"
        )


# ------------------------------------------------------------------------- engine
def _toposort(roots):
    """Nodes reachable from ``roots``, each after every node that consumes it: the reachable
    nodes newest first (creation order is topological). Collected depth-first, so a chain
    is already in order and the sort is linear."""
    found = list(dict.fromkeys(roots))
    seen = set(found)
    stack = list(found)
    while stack:
        node = stack.pop()
        inputs = node.inputs
        if node.out is None:
            raise BackwardError(
                f"trying to back-propagate through the graph a second time (the "
                f"'{node.op.name}' node was freed by an earlier backward); pass "
                "retain_graph=True to the first backward() or cr.grad() to keep it"
            )
        for x, v in zip(inputs, node.versions):
            if isinstance(x, Tensor):
                parent = x._node if x._version == v else _source(x, v)
                if type(parent) is Node and parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
                    found.append(parent)
    found.sort(key=_seq, reverse=True)
    return found


_seq = operator.attrgetter("seq")


def _stale(node, i, x):
    return BackwardError(
        f"an input of '{node.op.name}' (input {i}, shape {x.shape}) was changed in place "
        f"after the op used it (version {node.versions[i]} -> {x._version}), so the "
        "gradients computed from it would be wrong; change a copy instead, or do the "
        "in-place update after backward()"
    )


def _run(roots, seeds, retain_graph, create_graph, capture=()):
    """Back-propagate ``seeds`` (gradients of ``roots``). Returns the gradients of the
    leaves reached (keyed by tensor) and of the non-leaf nodes in ``capture``.

    The steps, per node from the outputs back: take the gradient of its output (seeded
    from ``seeds``); per input, find where its gradient goes (the version check, only for
    what the VJP reads); run the VJP; reduce it to the input's shape and dtype; check it
    under ``detect_anomaly``; add it to what that input already has; then free the node.
    This loop runs once per node of every backward, so the steps are written inline and
    the rare cases (an in-place change, a traced step) leave it through helpers.
    """
    grads = _seed_grads(roots, seeds)
    order = _toposort([t._node for t in roots if t._node is not None])
    F = _ops.TS if create_graph else _ops.NP
    anomaly = mode.anomaly
    captured = {}
    pop, get = grads.pop, grads.get
    prev = mode.grad_enabled
    mode.grad_enabled = create_graph
    try:
        for node in order:
            g = pop(node, None)  # 1. the gradient of this node's output
            if capture and node in capture:
                captured[node] = g
            if g is not None:
                if node.retained is not None:
                    _retain(node, g)
                inputs, op, versions, params = node.inputs, node.op, node.versions, node.params
                wrapped = not create_graph and _tensor._FOREIGN and _foreign(node.out)
                if create_graph or wrapped:  # another library's arrays: VJPs on Tensors
                    args = inputs
                    out = _wrap(node.out, node)  # the output, as a recorded tensor
                    if wrapped:
                        F = _ops.TS
                        g = g if isinstance(g, Tensor) else _wrap(g, None)
                else:
                    args = [x.data if isinstance(x, Tensor) else x for x in inputs]
                    out = node.out
                    if type(g) is Tensor:  # after a node of another library
                        g = g.data
                vjps = op.vjps
                for i, x in enumerate(inputs):
                    if not isinstance(x, Tensor):
                        continue
                    if x._version == versions[i]:  # 2. where input i's gradient goes
                        if not x._requires_grad:
                            continue
                        key = x._node
                        if key is None:
                            key = x
                    else:
                        key = _changed_input(node, i, x)
                        if key is None:
                            continue
                    try:
                        if op.variadic:  # 3. the VJP
                            gi = vjps[0](F, g, out, i, args, *params)
                        else:
                            gi = vjps[i](F, g, out, *args, *params)
                    except Exception:
                        _raise_if_stale(node)  # (an input moved to another device since)
                        raise
                    xd = x.data  # 4. reduced to the input's shape and dtype
                    shape = xd.shape
                    if gi.shape != shape:
                        gi = F.sum_to(gi, shape)
                    if gi.dtype != (xd.dtype if F is _ops.NP else x.dtype):
                        gi = F.astype(gi, x.dtype)
                    if wrapped:
                        gi = gi.data
                    if anomaly:  # 5. NaN/Inf check
                        _anomaly_backward(node, i, gi)
                    prior = get(key)  # 6. summed where a value feeds several ops
                    if prior is None:
                        grads[key] = gi
                    else:
                        grads[key] = prior + gi
                if wrapped:
                    F = _ops.NP
            if not retain_graph:  # 7. free what the node saved, keep its structure
                free(node)
    finally:
        mode.grad_enabled = prev
    return grads, captured


def _seed_grads(roots, seeds):
    grads = {}
    for t, g in zip(roots, seeds):
        key = t._node if t._node is not None else t
        grads[key] = grads[key] + g if key in grads else g
    return grads


def _retain(node, g):
    """``.grad`` of the tensors that called ``retain_grad()``, made by ``node``."""
    for t in node.retained:
        t._grad = g if isinstance(g, Tensor) else _wrap(_copy(g), None)


def _raise_if_stale(node):
    """The error of a VJP that read an input changed since: that it changed (the VJP of
    one input reads the others before their own check comes)."""
    for j, (x, v) in enumerate(zip(node.inputs, node.versions)):
        if isinstance(x, Tensor) and x._version != v and j in node.op.reads:
            raise _stale(node, j, x) from None


def _changed_input(node, i, x):
    """Input ``i`` was changed in place after ``node`` used it: refuse when the VJP reads it
    (also a constant: other inputs' VJPs use it), else send the gradient to the graph that
    made the value it used."""
    if i in node.op.reads:
        raise _stale(node, i, x)
    return _source(x, node.versions[i])


def free(node):
    """Drop what ``node`` saved for its backward (its output, and the intermediate tensors
    among its inputs with their arrays) but keep the structure, as PyTorch does: each such
    input is replaced in ``node.inputs`` by the node that made it, and ``node.kept`` is the
    output's shape and dtype. Leaves and constants stay. (Nothing is allocated that points
    at other nodes: a backward through a million nodes must not feed the cyclic garbage
    collector, which would make it slower per node the longer the graph.)"""
    inputs = node.inputs
    for i, v in enumerate(node.versions):
        x = inputs[i]
        if isinstance(x, Tensor) and (x._node is not None or x._version != v):
            p = _source(x, v)
            if p is not None:
                inputs[i] = p
    out = node.out
    node.kept = (out.shape, out.dtype)
    node.out = None


def parents(node):
    """Where each input of ``node`` came from: the node that made it, a leaf tensor, or a
    constant; the same whether or not a backward has freed the node."""
    found = []
    for x, v in zip(node.inputs, node.versions):
        if isinstance(x, Tensor):
            p = _source(x, v)
            x = x if p is None else p
        found.append(x)
    return found


def _copy(g):
    if _tensor._FOREIGN and _foreign(g):
        return _backend.of(g).copy(g)
    return np.copy(g)  # np.copy, not np.array: NumPy hands it to an array stand-in


def _own(g, dtype):
    g = _copy(g)
    if _tensor._FOREIGN and _foreign(g):
        b = _backend.of(g)
        return g if b.np_dtype(g.dtype) == b.np_dtype(dtype) else b.astype(g, dtype)
    return g if g.dtype == dtype else g.astype(dtype)


def _seed(t, g, create_graph, k):
    if not isinstance(t, Tensor):
        raise TypeError(f"outputs[{k}] is a {type(t).__name__}, not a Tensor")
    if not t.requires_grad:
        raise BackwardError(
            f"outputs[{k}] (shape {t.shape}) does not require grad: nothing that made it "
            "requires grad (create inputs with requires_grad=True), or it was computed "
            "inside cr.no_grad()"
        )
    if g is None:
        if t.data.size != 1:
            raise BackwardError(
                f"backward() without a gradient needs a one-element output (a scalar loss), "
                f"but this output has shape {t.shape}; pass the gradient dE/d(output), a "
                f"tensor of shape {t.shape}, e.g. out.backward(cr.ones_like(out)), or reduce "
                "it first (out.sum().backward())"
            )
        g = np.ones_like(t.data) if not _tensor._FOREIGN or not _foreign(t.data) else \
            _backend.of(t.data).xp.ones_like(t.data)
    elif create_graph and isinstance(g, Tensor):
        if g.shape != t.shape:
            raise BackwardError(_grad_shape_msg(k, g.shape, t.shape))
        return g
    else:
        g = as_array(g, dtype=t.dtype, copy=True, where="backward")
        if g.shape != t.shape:
            raise BackwardError(_grad_shape_msg(k, g.shape, t.shape))
    return _wrap(g, None) if create_graph else g


def _grad_shape_msg(k, got, want):
    return f"gradient for outputs[{k}] has shape {got}, but the output has shape {want}"


def _listify(x, name):
    if isinstance(x, Tensor):
        return [x], True
    if isinstance(x, (list, tuple)):
        return list(x), False
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _start(outputs, grads, create_graph, grads_name):
    """The outputs as a list and their checked seed gradients (for backward and grad)."""
    outs, single = _listify(outputs, "outputs")
    if grads is None:
        grads = [None] * len(outs)
    elif single or isinstance(grads, (Tensor, np.ndarray)):
        grads = [grads]
    else:
        grads = list(grads)
    if len(grads) != len(outs):
        raise ValueError(f"got {len(grads)} {grads_name} for {len(outs)} outputs")
    seeds = [_seed(t, g, create_graph, k) for k, (t, g) in enumerate(zip(outs, grads))]
    return outs, seeds


def _shared(g, dtype):
    """Whether ``g`` must be copied before it becomes a ``.grad`` that may change in place:
    a view, a read-only array, a NumPy scalar, or another dtype."""
    kind = type(g.value) if isinstance(g, StandIn) else type(g)  # a stand-in: its array's
    return kind is not np.ndarray or g.base is not None or g.dtype != dtype \
        or not g.flags.writeable


# Called as hook(leaves) at the end of every backward() with the leaves it reached (a dict
# keyed by tensor): how cr.nn.parallel.DistributedDataParallel averages gradients.
post_backward_hooks: list = []


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors``.

    Leaf gradients add up across calls (as in PyTorch); reset them with
    ``opt.zero_grad()`` or ``x.grad = None``.

    Examples
    --------
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.backward((x * x).sum())
    >>> cr.backward((x * x).sum())              # gradients add up across calls
    >>> x.grad
    tensor([4., 8.])
    """
    outs, seeds = _start(tensors, grad_tensors, create_graph, "gradients")
    if retain_graph is None:
        retain_graph = create_graph
    leaves, _ = _run(outs, seeds, retain_graph, create_graph)
    if create_graph:
        for leaf, g in leaves.items():
            leaf.grad = g if leaf.grad is None else leaf.grad + g
    else:
        _accumulate_all(leaves)
    for hook in tuple(post_backward_hooks):
        hook(leaves)


def _accumulate_all(leaves):
    seen = set()
    for leaf, g in leaves.items():
        own = id(g) in seen or _shared(g, leaf.data.dtype)  # .grad gets its own array
        _accumulate(leaf, g, own)
        seen.add(id(g))


def _accumulate(leaf, g, own):
    """Add ``g`` to ``leaf.grad``; ``own``: copy it first (``.grad`` may change in place)."""
    if leaf.grad is None:
        if own:
            g = _own(g, leaf.data.dtype)
    else:
        if g.dtype != leaf.data.dtype:
            g = _own(g, leaf.data.dtype)
        g = leaf.grad.data + g
    leaf._grad = _wrap(g, None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
    inputs : Tensor or sequence of Tensors (leaves or intermediate results)
    grad_outputs : the gradients of the outputs (needed for non-scalar outputs)
    create_graph : bool
        Record the backward pass, so the returned gradients can be differentiated again
        (grad of grad, Hessian-vector products).
    allow_unused : bool
        Return None for an input the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Tensors (or None where unused and allowed)

    Examples
    --------
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (g,) = cr.grad(x ** 3, x, create_graph=True)   # 3x²
    >>> (h,) = cr.grad(g, x)                           # 6x
    >>> g.item(), h.item(), x.grad is None
    (27.0, 18.0, True)
    """
    ins, _ = _listify(inputs, "inputs")
    for k, x in enumerate(ins):
        if not isinstance(x, Tensor):
            raise TypeError(f"inputs[{k}] is a {type(x).__name__}, not a Tensor")
        if not x.requires_grad:
            raise BackwardError(f"inputs[{k}] (shape {x.shape}) does not require grad")
    outs, seeds = _start(outputs, grad_outputs, create_graph, "grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    capture = {x._node for x in ins if x._node is not None}
    leaves, captured = _run(outs, seeds, retain_graph, create_graph, capture)
    result = []
    for k, x in enumerate(ins):
        g = leaves.get(x) if x._node is None else captured.get(x._node)
        if g is None:
            if not allow_unused:
                raise BackwardError(
                    f"inputs[{k}] (shape {x.shape}) is not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
            continue
        if not isinstance(g, Tensor):
            if _shared(g, x.dtype):
                g = _traced(_own, g, x.dtype)
            g = _wrap(g, None)
        result.append(g)
    return tuple(result)


from . import backend as _backend  # noqa: E402
from . import ops as _ops  # noqa: E402  (ops imports tensor, which imports this module)
from . import tensor as _tensor  # noqa: E402
