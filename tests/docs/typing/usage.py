"""Code a user writes against chainrule's public API; mypy must accept it as it is.

Checked by tests/docs/test_typing.py (not collected by pytest: no test_ prefix).
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.nn import functional as F

x = cr.tensor([[1.0, 2.0]], requires_grad=True)
W = cr.tensor(np.random.default_rng(0).normal(size=(2, 3)), requires_grad=True)
y = cr.tanh(x @ W).sum()
y.backward()
gx, gW = cr.grad(cr.tanh(x @ W).sum(), [x, W], create_graph=True)
with cr.no_grad():
    W -= 0.1 * W.grad
assert cr.gradcheck(lambda a, b: cr.tanh(a @ b), [x, W])

xs, ts = data.figure_5_3("sin")
net = nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1))
opt = optim.SGD(net.parameters(), lr=0.006, momentum=0.9)
sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
for xb, tb in data.DataLoader(xs, ts, batch_size=10):
    E = 0.5 * F.mse_loss(net(cr.tensor(xb)), tb, reduction="sum")
    opt.zero_grad()
    E.backward()
    opt.step()
sched.step()
state: dict = net.state_dict()
net.load_state_dict(state)
z: cr.Tensor = cr.zeros(2, 3) + cr.ones(2, 3)
print(z.shape, z.numpy(), cr.__version__)
