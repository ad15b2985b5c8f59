"""The back-propagation walkthrough tab: the text's network, and any expression, step by step.

The text's network on one data point (Bishop §5.3): inputs ``x_i``, hidden pre-activations
``h_j = Σ_i w_ji x_i + b_j``, ``z_j = tanh(h_j)``, outputs ``y_k = Σ_j w_kj z_j + b_k``
and ``E = ½ Σ_k (y_k − ŷ_k)²``. Every number sent comes from chainrule: the forward
values, ``∂E/∂v`` of every value and weight (one ``cr.grad``), and the local derivative on
every edge (a row of each layer's Jacobian, one ``cr.grad`` with a one-hot seed per unit).
Each backward step lists, per edge, the local derivative, the incoming gradient and their
product; the products meeting at a node add up to its gradient (eqs. 5.9–5.12)::

    δ_k = y_k − ŷ_k          ∂E/∂w_kj = δ_k z_j
    δ_j = (1 − z_j²) Σ_k w_kj δ_k      ∂E/∂w_ji = δ_j x_i

Beside each weight's gradient is the central difference ``(E(w+Δw) − E(w−Δw)) / 2Δw``,
computed by chainrule's forward pass. For an expression typed by the user the explorer's
safe parser builds the graph (never ``eval``) and :func:`chainrule.viz.trace` supplies the
values, gradients, local derivatives and per-edge products.

Modules: :mod:`.models` (the API's pydantic models), :mod:`.network` (the text's network),
:mod:`.expression` (any expression); the page is ``static/walkthrough.js``.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from ..schemas import ErrorResponse
from .expression import expression_walkthrough
from .models import (
    MAX_HIDDEN,
    MAX_INPUTS,
    MAX_OUTPUTS,
    ExpressionRequest,
    ExpressionWalkthrough,
    NetworkWalkthrough,
    StepResponse,
    TextNetwork,
    TextNetworkStep,
)
from .network import default_network, gradient_step, network_error, network_walkthrough

__all__ = ["router", "default_network", "gradient_step", "network_error", "network_walkthrough",
           "expression_walkthrough"]

router = APIRouter(prefix="/api/walkthrough", tags=["walkthrough"])
_errors = {400: {"model": ErrorResponse, "description": "bad input, with a message"},
           422: {"model": ErrorResponse, "description": "malformed request, with a message"}}


@router.get("/network/default", response_model=TextNetwork,
            summary="A small network with seeded weights, to start the walkthrough from")
def api_default(inputs: int = Query(2, ge=1, le=MAX_INPUTS),
                hidden: int = Query(3, ge=1, le=MAX_HIDDEN),
                outputs: int = Query(2, ge=1, le=MAX_OUTPUTS),
                seed: int = Query(0, ge=0, le=2**31)):
    return default_network(inputs, hidden, outputs, seed)


@router.post("/network", response_model=NetworkWalkthrough, responses=_errors,
             summary="Forward values and backward steps of the text's network (eqs. 5.9–5.12)")
def api_network(spec: TextNetwork):
    return network_walkthrough(spec)


@router.post("/network/step", response_model=StepResponse, responses=_errors,
             summary="One gradient-descent step w ← w − η∂E/∂w, with E before and after")
def api_step(req: TextNetworkStep):
    return gradient_step(req)


@router.post("/expression", response_model=ExpressionWalkthrough, responses=_errors,
             summary="Graph, forward values and backward steps of an expression F(x, y)")
def api_expression(req: ExpressionRequest):
    return expression_walkthrough(req)
