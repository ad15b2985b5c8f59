"""Module, Parameter and Sequential: PyTorch's containers for weights, on chainrule tensors."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..errors import StateDictError
from ..tensor import Tensor, _adopt, _device_and_dtype, as_array
from .utils import zero_grads


class Parameter(Tensor):
    """A Tensor that a :class:`Module` registers as one of its weights.

    Parameters
    ----------
    data : array_like
        Initial values; a floating-point array (kept without a copy when it is one).
    requires_grad : bool
        Whether optimizers train it (default True).

    Notes
    -----
    Its ``name`` (e.g. ``"0.weight"``) is set when it is assigned to a module and
    updated as that module becomes a child of another, so graph drawings can label it.

    Examples
    --------
    >>> import chainrule as cr
    >>> lin = cr.nn.Linear(2, 1)
    >>> isinstance(lin.weight, cr.nn.Parameter), lin.weight.requires_grad
    (True, True)
    >>> list(cr.nn.Sequential(lin).state_dict())      # named as they sit in the model
    ['0.weight', '0.bias']
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        arr = np.asarray(data) if type(data) is np.ndarray else as_array(data, where="Parameter")
        if backend.np_dtype(arr).kind != "f":
            arr = backend.astype(arr, np.float64)
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _as_array(value):
    if isinstance(value, Tensor):
        return value.data
    # backend.of is None for NumPy arrays, numbers and lists: those become NumPy arrays
    return value if backend.of(value) is not None else np.asarray(value)


def _moved(p, data):
    """Rebind tensor ``p``'s data to ``data``: the same object, its version bumped as an
    in-place change bumps it."""
    if data is p.data:
        return
    p.data = _adopt(data) if type(data) is not np.ndarray else data
    p._bump_version()


class Module:
    """Base class of layers and models: holds parameters and child modules.

    Subclasses assign :class:`Parameter` and :class:`Module` attributes in ``__init__``
    (after calling ``super().__init__()``) and define ``forward``; calling the module
    calls ``forward``.

    Examples
    --------
    >>> class TwoLayer(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = cr.nn.Linear(1, 3)
    ...         self.out = cr.nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.out(cr.tanh(self.hidden(x)))
    >>> net = TwoLayer()
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> net(cr.ones(5, 1)).shape
    (5, 1)
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called; "
                "call super().__init__() first in your module's __init__"
            )
        params, modules = self._parameters, self._modules
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
            value.name = name
        elif isinstance(value, Module):
            modules[name] = value
            for sub, p in value.named_parameters():
                p.name = f"{name}.{sub}"
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a bias)."""
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name, module):
        """Register a child module under ``name``."""
        if not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---------------------------------------------------------------- traversal
    def named_parameters(self, prefix=""):
        """Yield ``(name, parameter)`` pairs, names dotted like ``"0.weight"``; each once."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        """Yield the parameters of this module and all its descendants."""
        for _, p in self.named_parameters():
            yield p

    def named_children(self):
        """Yield ``(name, module)`` for the direct children."""
        yield from self._modules.items()

    def children(self):
        """Yield the direct child modules."""
        yield from self._modules.values()

    def named_modules(self, prefix=""):
        """Yield ``(name, module)`` for this module (name ``prefix``) and every descendant."""
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(kids))

    def modules(self):
        """Yield this module and every descendant."""
        for _, m in self.named_modules():
            yield m

    # -------------------------------------------------------------------- modes
    def train(self, mode=True):
        """Set training mode on this module and its descendants; returns ``self``."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns ``self``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None, or to zeros in place)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ devices
    def to(self, *args, device=None, dtype=None):
        """Move (``net.to("cuda")``, ``net.to(array_api_strict.Device("device1"))``) and/or
        cast (``net.to(np.float32)``) every parameter and its gradient in place, as
        PyTorch's ``Module.to``: the same Parameter objects (an optimizer made before keeps
        working, its state follows at its next step), each version bumped. Returns self.

        Examples
        --------
        >>> net = cr.nn.Linear(2, 1)
        >>> w = net.weight
        >>> net.to(np.float32) is net, net.weight is w, w.dtype
        (True, True, dtype('float32'))
        """
        device, dtype = _device_and_dtype(args, device, dtype)
        for p in self.parameters():
            for t in (p, p._grad):
                if t is None:
                    continue
                data = t.data
                if device is not None:
                    data = backend.move(data, device)
                if dtype is not None:
                    data = backend.astype(data, np.dtype(dtype))
                _moved(t, data)
        return self

    def cpu(self):
        """``to("cpu")``: every parameter on the host (NumPy); returns self."""
        return self.to("cpu")

    def double(self):
        """``to(np.float64)``; returns self."""
        return self.to(np.float64)

    def float(self):
        """``to(np.float32)``; returns self."""
        return self.to(np.float32)

    # --------------------------------------------------------------- state dict
    def state_dict(self):
        """Copies of all parameters, as an ordered ``{name: Tensor}`` dict."""
        return OrderedDict((n, Tensor(backend.copy(p.data))) for n, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the parameters, in place.

        Parameters
        ----------
        state_dict : mapping
            ``{name: array or Tensor}``, as made by :meth:`state_dict` or ``cr.load``; values
            on another device are copied onto each parameter's device (as PyTorch copies).
        strict : bool
            If True (default), missing or unexpected names raise :class:`StateDictError`.

        Returns
        -------
        (missing, unexpected) : tuple of lists of names
        """
        if not hasattr(state_dict, "keys"):
            raise StateDictError(
                f"load_state_dict expects a dict of name -> array, got {type(state_dict).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [n for n in own if n not in state_dict]
        unexpected = [n for n in state_dict if n not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"unexpected {', '.join(map(repr, map(str, unexpected)))}")
            raise StateDictError(
                f"{type(self).__name__}.load_state_dict: {'; '.join(parts)} "
                f"(the module has {', '.join(map(repr, own)) or 'no parameters'})"
            )
        values = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = _as_array(state_dict[name])
            if value.shape != p.shape:
                raise StateDictError(
                    f"{type(self).__name__}.load_state_dict: {name!r} has shape "
                    f"{value.shape} in the state dict but {p.shape} in the module"
                )
            if backend.np_dtype(value).kind not in "biuf":
                raise StateDictError(
                    f"{type(self).__name__}.load_state_dict: {name!r} has dtype "
                    f"{value.dtype}, expected numbers"
                )
            values[name] = value
        for name, value in values.items():  # all checked before anything changes
            p = own[name]
            if type(p.data) is not np.ndarray:  # onto the parameter's device, as its dtype
                value = backend.astype(backend.move(value, p.data), p.dtype)
            elif type(value) is not np.ndarray:
                value = backend.host(value)
            p.data[...] = value
            p._bump_version()
        return missing, unexpected

    # --------------------------------------------------------------------- repr
    def extra_repr(self):
        """Text shown inside this module's parentheses by ``repr``."""
        return ""

    def __repr__(self):
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._modules:
            return head + ")"
        lines = [head]
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(1, 3), Tanh(), Linear(3, 1))``.

    Children are named ``"0"``, ``"1"``, …; indexing, ``len`` and iteration work as on a list.

    Examples
    --------
    >>> net = cr.nn.Sequential(cr.nn.Linear(1, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    >>> net
    Sequential(
      (0): Linear(in_features=1, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    >>> net(cr.ones(4, 1)).shape, net[0].weight.shape
    ((4, 1), (3, 1))
    """

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module, got {type(m).__name__}"
                )
            self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index):
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index])
        return mods[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self
