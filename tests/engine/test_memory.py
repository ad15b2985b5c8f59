"""Memory stays flat over thousands of training steps (measured with tracemalloc)."""

import gc
import tracemalloc

import numpy as np
import pytest

import chainrule as cr

STEPS, WARMUP = 5000, 500


def _net():
    rng = np.random.default_rng(3)
    xv = rng.uniform(-1, 1, (64, 4))
    x = cr.tensor(xv)
    t = cr.tensor(np.sin(xv.sum(axis=1, keepdims=True)))
    params = [cr.tensor(rng.standard_normal(s) * 0.5, requires_grad=True)
              for s in [(4, 32), (32, 1)]]
    return x, t, params


def _step(x, t, params, lr=0.01):
    W1, W2 = params
    loss = ((cr.tanh(x @ W1) @ W2 - t) ** 2).mean()
    loss.backward()
    with cr.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss


def _measure(steps, warmup, keep_losses):
    """Traced memory after ``warmup`` steps and after ``steps`` steps (current), and the
    peaks over the ``warmup`` steps after the first and the last ``warmup`` steps."""
    x, t, params = _net()
    kept = []
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(1, steps + 1):
            loss = _step(x, t, params)
            if keep_losses:
                kept.append(loss)
            if i in (warmup, steps - warmup):
                gc.collect()  # also empties CPython's free lists, which fill up over time
                tracemalloc.reset_peak()
            if i == warmup:
                early, _ = tracemalloc.get_traced_memory()
            if i == 2 * warmup:
                _, peak_early = tracemalloc.get_traced_memory()
        _, peak_late = tracemalloc.get_traced_memory()
        gc.collect()
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return early, late, peak_early, peak_late, kept


def _graph_bytes():
    """What one step's graph holds: the arrays its nodes keep for backward."""
    x, t, (W1, W2) = _net()
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        loss = ((cr.tanh(x @ W1) @ W2 - t) ** 2).mean()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del loss
    return after - before


def test_memory_flat_over_5000_steps():
    early, late, peak_early, peak_late, _ = _measure(STEPS, WARMUP, keep_losses=False)
    graph = _graph_bytes()
    assert graph > 20_000  # one graph's arrays: what a leak per step would add
    assert late - early < 32_000, (early, late)
    assert peak_late - peak_early < 32_000, (peak_early, peak_late)
    assert peak_late - late < 8 * graph  # a step holds one graph at a time


def test_memory_flat_when_losses_are_kept():
    # the user keeps every loss tensor; each freed graph must release its arrays, so the
    # list costs a small, fixed amount per step: the loss and its graph's structure (six
    # nodes, which PyTorch keeps too, to be drawn), not the arrays
    steps, warmup = 2000, 200
    early, late, _, _, kept = _measure(steps, warmup, keep_losses=True)
    per_step = (late - early) / (steps - warmup)
    assert per_step < 3_000, per_step
    assert per_step < _graph_bytes() / 10
    assert len(kept) == steps and all(k.grad_fn.freed for k in kept[-3:])


def test_losses_decrease_so_the_loop_really_trains():
    x, t, params = _net()
    losses = [_step(x, t, params, lr=0.05).item() for _ in range(200)]
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("retain", [False, True])
def test_backward_frees_saved_arrays_unless_retained(retain):
    x = cr.tensor(np.ones(1000), requires_grad=True)
    y = cr.exp(x)
    z = y.sum()
    z.backward(retain_graph=retain)
    node = y.grad_fn
    assert (node.out is not None) == retain
    assert node.freed != retain
    assert node.inputs[0] is x  # a leaf stays
    assert isinstance(z.grad_fn.inputs[0], cr.Tensor) == retain  # y gives way to its node
    assert (z.grad_fn.inputs[0] is y.grad_fn) != retain


def test_backward_frees_the_arrays_but_keeps_the_structure():
    x = cr.tensor(np.ones(100_000), requires_grad=True)  # 800 kB arrays
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        loss = cr.tanh(cr.exp(x * 2.0)).sum()  # the graph holds three such intermediates
        held = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - base - x.grad.data.nbytes
    finally:
        tracemalloc.stop()
    assert held > 3 * x.data.nbytes
    assert after < 20_000, after  # only the nodes and the loss remain
    tanh = loss.grad_fn.inputs[0]  # the node that made the sum's input
    assert [tanh.op.name, tanh.inputs[0].op.name] == ["tanh", "exp"]
    assert loss.grad_fn.freed and tanh.kept == ((100_000,), np.float64)
