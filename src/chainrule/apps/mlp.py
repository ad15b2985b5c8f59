"""Training a multi-layer perceptron on a user's table, saving it, and applying it.

Used by ``chainrule train`` and ``chainrule predict``. A saved model is one ``cr.save``
file holding the weights, the architecture, the feature and class names and the
standardisation of inputs (and, for regression, of the target) learned on the training
part of the data.
"""

from __future__ import annotations

import numpy as np

from .. import load, nn, no_grad, optim, save, tensor
from ..errors import UserError

FORMAT = "chainrule-mlp"
LOSSES = ("mse", "cross-entropy")
OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.01}


def build(n_in, hidden, n_out, activation="tanh", seed=0):
    """``Linear → activation → … → Linear`` with the given hidden widths, seeded."""
    rng = np.random.default_rng(seed)
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h, generator=rng), nn.ACTIVATIONS[activation]()]
        width = h
    layers.append(nn.Linear(width, n_out, generator=rng))
    return nn.Sequential(*layers)


def _standardise(X):
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0  # a constant column stays constant instead of dividing by zero
    return mean, std


class Trained:
    """A model with what it needs to be applied to new rows (see :func:`train`)."""

    def __init__(self, model, config, scaling):
        self.model, self.config, self.scaling = model, config, scaling

    @property
    def classification(self):
        return self.config["loss"] == "cross-entropy"

    def outputs(self, X):
        """Raw network outputs (logits, or standardised predictions) for rows ``X``."""
        s = self.scaling
        with no_grad():
            return self.model(tensor((X - s["x_mean"]) / s["x_std"])).numpy()

    def predict(self, X):
        """Class indices (classification) or target values (regression) for rows ``X``."""
        out = self.outputs(X)
        if self.classification:
            return out.argmax(axis=1)
        return out[:, 0] * self.scaling["y_std"] + self.scaling["y_mean"]

    def save(self, path):
        """Write the model to ``path`` with ``cr.save``."""
        save({"format": FORMAT, "version": 1, "config": self.config,
              "scaling": self.scaling, "state": self.model.state_dict()}, path)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; a foreign file gives a UserError."""
        obj = load(path)
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise UserError(f"{path}: not a model saved by `chainrule train`")
        try:
            config = obj["config"]
            scaling = {k: np.asarray(v) for k, v in obj["scaling"].items()}
            model = build(len(config["features"]), config["hidden"], config["n_out"],
                          config["activation"])
            model.load_state_dict(obj["state"])
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(f"{path}: damaged model file ({e})") from None
        return cls(model, config, scaling)


def _loss(kind, out, y, reduction="mean"):
    if kind == "mse":
        return nn.functional.mse_loss(out, y.reshape(-1, 1), reduction=reduction)
    return nn.functional.cross_entropy(out, y, reduction=reduction)


def train(table, hidden=(16,), activation="tanh", loss="mse", optimizer="adam", lr=None,
          epochs=100, batch_size=32, val_fraction=0.2, seed=0, progress=None):
    """Train an MLP on a :class:`chainrule.data.Table` (from ``read_csv``).

    Parameters
    ----------
    table : Table
        Features ``X`` and target ``y`` (class indices and ``classes`` for cross-entropy).
    hidden : sequence of int
        Widths of the hidden layers (empty: a linear model).
    activation : {"tanh", "relu", "sigmoid"}
    loss : {"mse", "cross-entropy"}
        Regression on a numeric target, or classification of labels.
    optimizer : {"sgd", "adam"}
        SGD uses momentum 0.9.
    lr : float, optional
        Learning rate; by default 0.05 for SGD, 0.01 for Adam.
    epochs, batch_size : int
    val_fraction : float
        Part of the rows held out for validation (0 for none).
    seed : int
        Seeds the split, the initial weights and the shuffling.
    progress : Progress, optional
        Advanced once per epoch.

    Under a process group of several ranks (``cr.distributed``) it trains data-parallel:
    every rank reads all rows, and each global batch of ``batch_size`` rows is split
    between the ranks, so the model is the one a single process trains (to rounding).
    The validation figures in ``history`` are then computed on rank 0 only.

    Returns
    -------
    trained : Trained
    history : dict
        ``train`` and ``val`` loss per epoch, and ``val_accuracy`` (classification) or
        ``val_rmse`` (regression, in the target's units) at the end.
    """
    from .. import distributed
    from ..data import DataLoader, train_val_split

    rank, size = (distributed.get_rank(), distributed.get_world_size()) \
        if distributed.is_initialized() else (0, 1)

    X, y = table.X, table.y
    classification = loss == "cross-entropy"
    if val_fraction:
        if len(X) < 5:
            raise UserError(
                f"{table.path}: {len(X)} rows are too few to hold out a validation part; "
                "use --val-fraction 0"
            )
        strat = y if classification else None
        X, y, Xv, yv = train_val_split(X, y, val_fraction=val_fraction, seed=seed,
                                       stratify=strat)
    else:
        Xv = yv = None
    x_mean, x_std = _standardise(X)
    scaling = {"x_mean": x_mean, "x_std": x_std}
    if classification:
        n_out = len(table.classes)
        yt = y
    else:
        n_out = 1
        scaling["y_mean"] = np.asarray(y.mean())
        scaling["y_std"] = np.asarray(y.std() or 1.0)
        yt = (y - scaling["y_mean"]) / scaling["y_std"]
    config = {"features": list(table.feature_names), "target": table.target_name,
              "classes": list(table.classes) if classification else None,
              "hidden": [int(h) for h in hidden], "activation": activation, "loss": loss,
              "n_out": n_out}
    model = build(X.shape[1], hidden, n_out, activation, seed)
    net = model if size == 1 else nn.parallel.DistributedDataParallel(model)
    trained = Trained(model, config, scaling)
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader((X - x_mean) / x_std, yt, batch_size=batch_size, seed=seed)
    history = {"train": [], "val": []}
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            if size == 1:
                value = _loss(loss, model(tensor(xb)), yb)
                part = value.item() * len(xb)
            else:  # this rank's rows' share of the batch's mean; DDP averages over ranks
                mine = slice(rank, None, size)
                value = _loss(loss, net(tensor(xb[mine])), yb[mine], "sum") * (size / len(xb))
                part = value.item() * len(xb) / size
            value.backward()
            opt.step()
            total += part
        if size > 1:
            total = np.array(total)
            distributed.all_reduce(total)
        history["train"].append(float(total) / len(X))
        if Xv is not None and rank == 0:
            history["val"].append(evaluate(trained, Xv, yv))
        if progress is not None:
            progress.update(1)
            progress.set_postfix_str(f"loss {history['train'][-1]:.4g}")
        if not np.isfinite(history["train"][-1]):
            raise UserError(f"training diverged (loss {history['train'][-1]}); try a smaller --lr")
    if Xv is not None and rank == 0:
        pred = trained.predict(Xv)
        if classification:
            history["val_accuracy"] = float(np.mean(pred == yv))
        else:
            history["val_rmse"] = float(np.sqrt(np.mean((pred - yv) ** 2)))
    return trained, history


def evaluate(trained, X, y):
    """The training loss (in the model's standardised units) on rows ``X`` with target ``y``."""
    out = tensor(trained.outputs(X))
    if not trained.classification:
        y = (y - trained.scaling["y_mean"]) / trained.scaling["y_std"]
    return _loss(trained.config["loss"], out, y).item()
