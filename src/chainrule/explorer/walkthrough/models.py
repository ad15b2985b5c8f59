"""Request and response models of the walkthrough's API (they appear in ``/openapi.json``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..parser import MAX_LENGTH

MAX_INPUTS, MAX_HIDDEN, MAX_OUTPUTS = 4, 6, 4
LIMIT = 100.0  # largest |number| accepted for inputs, targets and weights
Num = Annotated[float, Field(ge=-LIMIT, le=LIMIT, allow_inf_nan=False)]
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def _sub(n) -> str:
    return str(n).translate(_SUB)


def _n(v: float) -> str:
    """A number for formulas: 4 significant digits, negatives in parentheses."""
    s = f"{float(v):.4g}"
    return f"({s})" if s.startswith("-") else s


# ------------------------------------------------------------------------- requests
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextNetwork(Strict):
    """The network and its data point: ``W1`` is M×D (row j holds w_ji), ``W2`` is K×M."""

    x: list[Num] = Field(min_length=1, max_length=MAX_INPUTS, description="inputs x_i")
    target: list[Num] = Field(min_length=1, max_length=MAX_OUTPUTS, description="targets ŷ_k")
    W1: list[list[Num]] = Field(min_length=1, max_length=MAX_HIDDEN,
                                description="first-layer weights w_ji, one row per hidden unit")
    b1: list[Num] = Field(description="first-layer biases b_j")
    W2: list[list[Num]] = Field(description="second-layer weights w_kj, one row per output")
    b2: list[Num] = Field(description="second-layer biases b_k")
    fd_step: float = Field(1e-5, ge=1e-9, le=0.1, allow_inf_nan=False,
                           description="Δw of the finite-difference estimates")

    @model_validator(mode="after")
    def _shapes(self):
        D, M, K = len(self.x), len(self.W1), len(self.target)
        bad = [f"W1 row {j + 1} has {len(r)} entries but there are {D} inputs"
               for j, r in enumerate(self.W1) if len(r) != D]
        if len(self.b1) != M:
            bad.append(f"b1 has {len(self.b1)} entries but W1 has {M} rows (hidden units)")
        if len(self.W2) != K:
            bad.append(f"W2 has {len(self.W2)} rows but there are {K} targets (outputs)")
        bad += [f"W2 row {k + 1} has {len(r)} entries but there are {M} hidden units"
                for k, r in enumerate(self.W2) if len(r) != M]
        if len(self.b2) != K:
            bad.append(f"b2 has {len(self.b2)} entries but there are {K} targets (outputs)")
        if bad:
            raise ValueError("; ".join(bad))
        return self


class TextNetworkStep(TextNetwork):
    eta: float = Field(0.1, gt=0, le=10, allow_inf_nan=False, description="learning rate η")


class ExpressionRequest(Strict):
    expression: str = Field(max_length=MAX_LENGTH, examples=["x*y + sin(x)"])
    x: Num = 0.5
    y: Num = -1.0


# ------------------------------------------------------------------------ responses
class WNode(BaseModel):
    id: str
    label: str
    kind: str = Field(description="input, bias, hidden_in, hidden_out, output, error; "
                      "or var, const, op for expressions")
    layer: int
    order: int
    value: float | None
    grad: float | None = Field(description="∂E/∂(this value), from chainrule's backward")
    note: str | None = None


class WEdge(BaseModel):
    id: str
    src: str
    dst: str
    weight: str | None = Field(None, description="id of the weight on this edge")
    label: str = ""


class ForwardStep(BaseModel):
    node: str
    title: str
    formula: str
    expansion: str
    value: float


class Term(BaseModel):
    """One edge of a backward step: the gradient ``incoming`` at ``src`` (the node nearer
    the output) times the local derivative ∂src/∂dst gives this edge's ``product``."""

    edge: str
    src: str
    dst: str
    dst_label: str
    local: float
    local_formula: str
    incoming: float
    product: float


class BackwardStep(BaseModel):
    title: str
    formula: str
    node: str | None = Field(description="the node whose gradient this step completes")
    completes: list[str] = Field(description="ids of nodes and weights whose gradient is "
                                 "known after this step")
    terms: list[Term]
    total: float | None = Field(description="sum of the products (None for weight steps)")
    grad: float | None = Field(description="the node's gradient from chainrule's backward")


class WeightInfo(BaseModel):
    id: str
    label: str
    layer: int
    row: int
    col: int = Field(description="input index (0 for the bias)")
    edge: str
    value: float
    grad: float
    fd: float = Field(description="(E(w+Δw) − E(w−Δw)) / 2Δw")
    formula: str


class NetworkWalkthrough(BaseModel):
    sizes: dict[str, int]
    E: float
    nodes: list[WNode]
    edges: list[WEdge]
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    weights: list[WeightInfo]
    fd_step: float


class StepResponse(BaseModel):
    eta: float
    E_before: float
    E_after: float
    predicted_change: float = Field(description="−η ‖∇E‖², the first-order (Taylor) change")
    grad_norm: float
    network: TextNetwork = Field(description="the network after w ← w − η ∂E/∂w")


class ExpressionWalkthrough(BaseModel):
    expression: str
    x: float
    y: float
    value: float
    gradient: dict[str, float]
    nodes: list[WNode]
    edges: list[WEdge]
    forward: list[ForwardStep]
    backward: list[BackwardStep]
