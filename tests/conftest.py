"""Shared by the nn and optim suites: the ``on`` fixture runs a test on NumPy and again on
``array_api_strict``'s fake second device ``device1``, through the backend seam (as the
engine's op registry suite does in tests/engine/test_ops_gradcheck.py).

On device1 any conversion to NumPy raises (array_api_strict refuses ``__array__`` there),
so a hidden NumPy call in nn or optim fails the test; :meth:`On.host` is the one explicit
copy back, and it checks that the value was still a strict array on device1."""

import numpy as np
import pytest

import chainrule as cr


class On:
    """Where a test's tensors live: ``numpy`` or ``strict`` (array_api_strict, device1)."""

    def __init__(self, name):
        self.name = name
        self.strict = name == "strict"
        if self.strict:
            self.xps = pytest.importorskip("array_api_strict")
            self.device = self.xps.Device("device1")
        else:
            self.device = "cpu"

    def __repr__(self):
        return self.name

    def array(self, a, dtype=None):
        """NumPy data as an array here."""
        a = np.asarray(a, dtype=dtype)
        return self.xps.asarray(a, device=self.device) if self.strict else a

    def tensor(self, a, requires_grad=False, dtype=None):
        return cr.tensor(self.array(a, dtype), requires_grad=requires_grad)

    def module(self, m):
        """Module ``m`` with its parameters moved here (``Module.to``)."""
        return m.to(self.device) if self.strict else m

    def host(self, x):
        """The values of a Tensor or array as NumPy; here a strict one must still be a
        strict array on device1 (nothing fell back to NumPy on the way)."""
        data = x.data if isinstance(x, cr.Tensor) else x
        if not self.strict:
            assert isinstance(data, (np.ndarray, np.generic, float, int)), type(data)
            return np.asarray(data)
        assert type(data).__module__.startswith("array_api_strict"), type(data)
        assert data.device == self.device, data.device
        return np.asarray(data.to_device(self.xps.Device("CPU_DEVICE")))

    def skip(self, reason):
        """Skip this test on the strict backend only, saying why."""
        if self.strict:
            pytest.skip(f"strict backend: {reason}")


@pytest.fixture(params=["numpy", "strict"])
def on(request):
    return On(request.param)
