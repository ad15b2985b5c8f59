"""Mistakes mypy must report, one per line marked ``# error: CODE``.

Checked by tests/docs/test_typing.py: every marked line must get that error and no other
line any error, so the public API is seen by a type checker (and an editor) as it is.
"""

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import functional as F

x = cr.tensor([1.0])
x.tanhh()  # error: attr-defined
nn.Linearr(1, 3)  # error: attr-defined
optim.SGD()  # error: call-arg
F.mse_loss(x)  # error: call-arg
print(cr.zeros(2).gradd)  # error: attr-defined
cr.tanh(x, 1, 2)  # error: call-arg
