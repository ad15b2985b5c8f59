"""Grad mode and anomaly mode are per thread (as in PyTorch): one thread's ``no_grad`` or
``detect_anomaly`` never changes what another thread records or checks."""

import threading

import numpy as np
import pytest

import chainrule as cr


def _run_threads(*targets):
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # re-raised in the test's thread below
                errors.append(e)
        return run

    threads = [threading.Thread(target=guarded(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_while_another_trains():
    inside, trained = threading.Event(), threading.Event()
    rng = np.random.default_rng(0)
    xv, tv = rng.standard_normal((20, 2)), rng.standard_normal((20, 1))
    seen = {}

    def evaluator():
        w = cr.tensor(np.ones((2, 1)), requires_grad=True)
        with cr.no_grad():
            inside.set()
            assert trained.wait(20)  # the other thread trains while this one is in no_grad
            y = cr.tensor(xv) @ w
            seen["eval_grad_enabled"] = cr.is_grad_enabled()
            seen["eval_records"] = y.requires_grad
        seen["eval_after"] = cr.is_grad_enabled()

    def trainer():
        assert inside.wait(20)
        w = cr.tensor(np.zeros((2, 1)), requires_grad=True)
        x, t = cr.tensor(xv), cr.tensor(tv)
        for _ in range(50):  # each step records a graph and back-propagates through it
            loss = ((x @ w - t) ** 2).mean()
            loss.backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
        seen["train_grad_enabled"] = cr.is_grad_enabled()
        seen["w"] = w.numpy().copy()
        trained.set()

    _run_threads(evaluator, trainer)
    assert seen["eval_grad_enabled"] is False and seen["eval_records"] is False
    assert seen["eval_after"] is True and seen["train_grad_enabled"] is True
    # the same 50 steps in plain NumPy: the trainer's gradients were all recorded and right
    w = np.zeros((2, 1))
    for _ in range(50):
        w -= 0.1 * (2 * xv.T @ (xv @ w - tv) / len(xv))
    np.testing.assert_allclose(seen["w"], w, rtol=1e-12)


def test_a_new_thread_starts_with_grad_enabled_even_inside_no_grad():
    seen = {}

    def worker():
        x = cr.tensor([1.0], requires_grad=True)
        seen["records"] = (x * 2).requires_grad

    with cr.no_grad():
        _run_threads(worker)
        assert not cr.is_grad_enabled()
    assert seen["records"] is True


def test_anomaly_mode_is_per_thread():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def detector():
        with cr.detect_anomaly():
            inside.set()
            assert done.wait(20)
            x = cr.tensor([0.0], requires_grad=True)
            with pytest.raises(cr.AnomalyError, match="log"), np.errstate(divide="ignore"):
                cr.log(x)
            seen["detector_raised"] = True

    def other():
        assert inside.wait(20)
        x = cr.tensor([0.0], requires_grad=True)
        with np.errstate(divide="ignore"):
            y = cr.log(x)  # -inf, not checked: anomaly mode is off in this thread
        seen["other_value"] = y.item()
        done.set()

    _run_threads(detector, other)
    assert seen["detector_raised"] and seen["other_value"] == -np.inf


def test_ops_read_one_flag_until_a_thread_switches_a_mode():
    from chainrule.graph import defaults

    assert defaults.plain and defaults.away == 0
    with cr.no_grad():
        assert not defaults.plain
        with cr.detect_anomaly():
            assert defaults.away == 2
        with cr.no_grad():  # no change of value: no change of count
            assert defaults.away == 1
    assert defaults.plain and defaults.away == 0
    x = cr.tensor([1.0], requires_grad=True)
    (x * x).sum().backward()  # the backward switches grad mode off while it runs
    assert defaults.plain and defaults.away == 0
    test_no_grad_in_one_thread_while_another_trains()
    assert defaults.plain and defaults.away == 0
