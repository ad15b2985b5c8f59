"""A small real data set: the 8×8 digits, classified by an MLP (seeded, a second or two)."""

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("sklearn", reason="the digits need the data extra (scikit-learn)")


def accuracy(model, X, y, on):
    with cr.no_grad():
        return float(np.mean(on.host(model(on.tensor(X))).argmax(axis=1) == y))


@pytest.mark.parametrize("opt_name", ["adam", "sgd"])
def test_mlp_reaches_95_percent_on_digits(opt_name, on):
    from chainrule.data import DataLoader, load_digits

    X_train, y_train, X_test, y_test = load_digits(test_fraction=0.25, seed=0)
    rng = np.random.default_rng(0)
    model = cr.nn.Sequential(
        cr.nn.Linear(64, 64, dtype=np.float32, generator=rng),
        cr.nn.Tanh(),
        cr.nn.Linear(64, 10, dtype=np.float32, generator=rng),
    ).to(on.device)
    if opt_name == "adam":
        opt = cr.optim.Adam(model.parameters(), lr=0.005)
    else:
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    loader = DataLoader(X_train, y_train, batch_size=32, seed=0)  # a new order every epoch
    before = accuracy(model, X_test, y_test, on)
    losses = []
    for _ in range(20):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = cr.nn.functional.cross_entropy(model(on.tensor(xb)), on.array(yb))
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / len(X_train))
    assert model[0].weight.dtype == np.float32 and loss.dtype == np.float32
    assert losses[-1] < 0.2 * losses[0]
    acc = accuracy(model, X_test, y_test, on)
    assert before < 0.3
    assert acc >= 0.95, f"test accuracy {acc:.3f}"  # measured: 96.2% (Adam), 96.0% (SGD)
