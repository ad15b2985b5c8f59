"""Request and response models of the explorer's HTTP API (they make ``/openapi.json``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .descent import METHODS
from .network import WEIGHT_IDS
from .parser import MAX_LENGTH

MAX_GRID = 200
MAX_STEPS = 1000
MAX_ETAS = 200
COORD = 1e6  # largest |coordinate| accepted anywhere

Problem = Literal["square", "sin", "abs", "step"]
WeightId = Literal[WEIGHT_IDS]  # type: ignore[valid-type]
Method = Literal[tuple(METHODS)]  # type: ignore[valid-type]
Coord = Annotated[float, Field(ge=-COORD, le=COORD, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NetworkSpec(Strict):
    """E of the 1-3-1 tanh network on a Figure 5.3 problem, as a function of two weights."""

    problem: Problem = "sin"
    wx: WeightId = "w2_1"
    wy: WeightId = "b2"


class FunctionSpec(Strict):
    """Exactly one of ``expression`` (text in the explorer's grammar) or ``network``."""

    expression: str | None = Field(None, max_length=MAX_LENGTH, examples=["x^2 + 3*y^2"])
    network: NetworkSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.expression is None) == (self.network is None):
            raise ValueError("give exactly one of 'expression' or 'network'")
        return self


class Domain(Strict):
    xmin: Coord
    xmax: Coord
    ymin: Coord
    ymax: Coord

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.xmin < self.xmax and self.ymin < self.ymax):
            raise ValueError("need xmin < xmax and ymin < ymax")
        return self


class SurfaceRequest(Strict):
    function: FunctionSpec
    domain: Domain | None = Field(None, description="view box; omitted: the function's own")
    n: int = Field(100, ge=2, le=MAX_GRID, description="grid points per axis")
    gradient: bool = Field(False, description="also return ∂F/∂x and ∂F/∂y on the grid")


class PointRequest(Strict):
    function: FunctionSpec
    x: Coord
    y: Coord
    direction: float | None = Field(
        None, ge=-360, le=360, allow_inf_nan=False,
        description="angle φ in degrees of a unit vector for the directional derivative",
    )  # fmt: skip


class TaylorRequest(Strict):
    function: FunctionSpec
    x: Coord
    y: Coord
    eta: float | None = Field(None, ge=1e-9, le=100, allow_inf_nan=False,
                              description="the current η, whose pair is returned as at_eta")
    eta_max: float | None = Field(None, ge=1e-9, le=100, allow_inf_nan=False,
                                  description="largest η; omitted: 2.5 × max(2/λ_max, eta)")
    n: int = Field(80, ge=2, le=MAX_ETAS, description="number of η values")
    scale: Literal["linear", "log"] = Field("linear", description="spacing of the η values")


class DescentRequest(Strict):
    function: FunctionSpec
    x: Coord
    y: Coord
    lr: float = Field(0.1, ge=1e-9, le=100, allow_inf_nan=False, description="step size η")
    steps: int = Field(100, ge=1, le=MAX_STEPS)
    methods: list[Method] = Field(["gd"], min_length=1, max_length=len(METHODS))


# ----------------------------------------------------------------------------- responses
Floats = list[float | None]


class Fit(BaseModel):
    x: list[float]
    y: Floats


class NetworkInfo(BaseModel):
    data_x: list[float]
    data_t: list[float]
    trained: tuple[float, float]
    wx_label: str
    wy_label: str


class SurfaceResponse(BaseModel):
    x: list[float]
    y: list[float]
    z: list[Floats]
    gx: list[Floats] | None = None
    gy: list[Floats] | None = None
    zmin: float | None
    zmax: float | None
    nonfinite: int = Field(description="grid points where F is NaN or infinite (sent as null)")
    domain: tuple[float, float, float, float]
    network: NetworkInfo | None = None
    ms: float


class PointResponse(BaseModel):
    x: float
    y: float
    f: float | None
    gx: float | None
    gy: float | None
    norm: float | None
    angle: float | None = Field(description="direction of ∇F in degrees from the x axis")
    finite: bool
    direction: float | None = None
    directional: float | None = None
    theta: float | None = None
    message: str | None = None
    fit: Fit | None = None
    ms: float


class Curvature(BaseModel):
    hessian: list[Floats]
    eigenvalues: list[float] | None
    lr_bound: float | None = Field(description="2/λ_max, or null without positive curvature")
    text: str


class TaylorPair(BaseModel):
    eta: float
    predicted: float | None
    actual: float | None


class TaylorResponse(BaseModel):
    eta: list[float]
    predicted: Floats | None
    actual: Floats | None
    f: float | None
    breaks_at: float | None = Field(None, description="first η where actual and predicted "
                                    "differ by more than 10%")
    at_eta: TaylorPair | None = None
    message: str | None = None
    curvature: Curvature
    ms: float


class Path(BaseModel):
    method: str
    label: str
    x: Floats
    y: Floats
    E: Floats
    gx: Floats = Field(description="∂E/∂x at each point of the path")
    gy: Floats = Field(description="∂E/∂y at each point of the path")
    status: Literal["ok", "diverged"]
    diverged_at: int | None
    message: str | None


class DescentResponse(BaseModel):
    paths: list[Path]
    curvature: Curvature
    message: str | None
    ms: float


class ErrorResponse(BaseModel):
    error: str
    column: int | None = None


class Catalog(BaseModel):
    presets: list[dict]
    problems: list[dict]
    weights: list[dict]
    methods: list[dict]
    limits: dict
