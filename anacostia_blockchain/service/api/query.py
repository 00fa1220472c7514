"""The query string of the hot read endpoints, declared as one Pydantic model and validated in one call.

FastAPI resolves each declared query parameter on its own on every request (its aliases, whether its annotation is
a sequence, its default, then one validation per parameter): for the ten parameters of ``GET /models`` that was
about a fifth of the CPU a listing costs. The list endpoints therefore take the request alone and validate its
query string against a model (:class:`ModelQuery`, :class:`RunQuery`) with :func:`parse_query`: one validation,
with the same rules and the same 422 answer (``query.<name>: <problem>``) FastAPI gives. The OpenAPI document lists
the model's fields as the operation's query parameters (:func:`documented`), so what is documented and what is
validated are one declaration.

As with FastAPI's own parameters, an unknown parameter is ignored and a repeated one counts with its last value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError
from starlette.requests import Request

_Q = TypeVar("_Q", bound=BaseModel)

#: A metric bound: any decimal, compared exactly (documented as a number; read as a decimal, never as a double).
MetricBound = Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": -1e30, "maximum": 1e30})]
ModelSort = Literal["newest", "oldest", "price_asc", "price_desc", "metric_asc", "metric_desc", "token_id"]
Page = Annotated[int, Field(ge=1, le=100_000)]
PageSize = Annotated[int, Field(ge=1, le=100)]


class ModelQuery(BaseModel):
    """The query string of ``GET /models``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page: Page = 1
    page_size: PageSize = 20
    owner: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{40}$", description="only models owned by this address")
    listed: bool | None = Field(None, description="only listed (true) or unlisted (false) models")
    min_price_usd: float | None = Field(None, ge=0, le=1e30)
    max_price_usd: float | None = Field(None, ge=0, le=1e30)
    metric: str | None = Field(None, min_length=1, max_length=128, description="metric name to filter/sort")
    min_metric: MetricBound | None = Field(None, allow_inf_nan=False, ge=-(10**30), le=10**30)
    max_metric: MetricBound | None = Field(None, allow_inf_nan=False, ge=-(10**30), le=10**30)
    sort: ModelSort = "newest"


class RunQuery(BaseModel):
    """The query string of ``GET /runs``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page: Page = 1
    page_size: PageSize = 20
    pipeline_id: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{64}$")


def parse_query(model: type[_Q], request: Request) -> _Q:
    """``request``'s query string as ``model``; :class:`RequestValidationError` (answered 422 by the app's error
    handler) naming each bad parameter as ``("query", name)``, as FastAPI does."""
    try:
        return model.model_validate(dict(request.query_params))
    except PydanticValidationError as exc:
        problems = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(problems) from None


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route whose query string is ``model``: each field as an optional query parameter,
    described and constrained as the model validates it."""
    schema = model.model_json_schema()
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in schema.get("required", ())}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameter["schema"] = field_schema
        parameters.append(parameter)
    return {"parameters": parameters}
