"""A model as an HTTP service: FastAPI + uvicorn over one :class:`core.bundle.ModelBundle`.

``assay serve model.zip`` answers on http://127.0.0.1:8000:

- ``POST /predict`` with ``{"records": [{column: value, ...}, ...]}`` returns one
  prediction per record (and, for classification, each class's probability);
- ``GET /health`` and ``GET /schema`` (the columns a record needs, with their kinds);
- ``GET /openapi.json`` and ``GET /docs``: the OpenAPI spec, generated from
  request models built at start-up from the bundle's input schema, so it lists the
  real columns and types.

A record is validated column by column before anything is scored: a value of the
wrong type, or a missing column, is a 422 whose ``message`` names the record, the
column and the problem. Extra keys are ignored and listed in the answer. Records go
through the same :func:`core.scoring.score` as the Predict page and ``assay predict``,
so the same rows get the same predictions.

What the service trusts: the bundle file it is started with (loaded without pickle;
scikit-learn members only through the reviewed skops type list). It trusts nobody
who calls it and has no sign-in of its own: anyone who can reach the port can score
rows and read the schema. That is why it binds to 127.0.0.1 unless told otherwise,
and, bound to loopback, answers only requests addressed to localhost (a guard
against DNS rebinding from a web page). Request bodies are capped in size and in
records.
"""

# No `from __future__ import annotations`: FastAPI reads the request model from the
# endpoint's annotation, which is a local variable here.

import datetime as dt
import ipaddress
import logging
import math
import uuid
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from core import scoring
from core.errors import AssayError

__all__ = ["create_app", "serve", "MAX_RECORDS", "MAX_BODY_BYTES", "is_loopback"]

log = logging.getLogger("assay.serve")

MAX_RECORDS = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024
_LOCAL_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
# The JSON type each kind is sent as; records are then stored as training stored them.
_TYPES: dict[str, tuple[Any, str]] = {
    "integer": (float, "a number (whole numbers in training)"),
    "float": (float, "a number"),
    "boolean": (bool, "true or false"),
    "datetime": (dt.datetime, "a date or date-time in ISO 8601, e.g. 2024-05-17 or 2024-05-17T08:30:00"),
    "categorical": (str, "a label"),
    "text": (str, "text"),
    "id": (str, "an identifier"),
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _label(value):
    """Numbers and true/false sent for a label column become the label text a table would give."""
    if isinstance(value, (bool, int, float)) and not isinstance(value, str):
        return scoring.label_text(value)
    return value


Label = Annotated[str | None, BeforeValidator(_label)]


def _record_model(bundle) -> tuple[type[BaseModel], list[str]]:
    """A pydantic model of one record: a required, nullable field per input column.

    Column names can be anything (spaces, ``class``, unicode), so fields get
    internal names and the column as their alias; the spec and errors show the alias.
    """
    fields: dict[str, Any] = {}
    columns = list(bundle.input_schema)
    for i, column in enumerate(columns):
        kind = bundle.input_schema[column]
        python_type, text = _TYPES.get(kind, (str, "a label"))
        annotation = Label if python_type is str else python_type | None
        fields[f"c{i}"] = (annotation, Field(..., alias=column, title=column, description=f"{text}; null if unknown"))
    config = ConfigDict(extra="allow", populate_by_name=False,
                        title="Record", json_schema_extra={"additionalProperties": True})
    return create_model("Record", __config__=config, **fields), columns


def _answer_models(bundle, record: type[BaseModel], max_records: int):
    request = create_model(
        "PredictRequest",
        records=(list[record], Field(..., min_length=1, max_length=max_records,
                                     description=f"the rows to score (1 to {max_records:,})")),
    )
    if bundle.task == "regression":
        prediction_type: Any = float
    else:
        prediction_type = Literal[tuple(bundle.classes)]  # the spec lists the classes
    prediction = create_model(
        "Prediction",
        prediction=(prediction_type, Field(..., description=f"the predicted {bundle.target}")),
        probabilities=(dict[str, float] | None, Field(None, description="each class's probability (classification)")),
    )
    response = create_model(
        "PredictResponse",
        predictions=(list[prediction], ...),
        ignored_columns=(list[str], Field(default_factory=list, description="keys the model does not use")),
    )
    return request, response


class _Column(BaseModel):
    name: str
    kind: str
    type: str
    nullable: bool = True


class _Schema(BaseModel):
    model: str
    task: str
    target: str
    classes: list | None
    threshold: float | None
    columns: list[_Column]
    max_records: int


def _problem(error: dict) -> tuple[int | None, str | None, str]:
    loc = [p for p in error.get("loc", ()) if p != "body"]
    record = loc[1] if len(loc) > 1 and loc[0] == "records" and isinstance(loc[1], int) else None
    column = str(loc[2]) if record is not None and len(loc) > 2 else None
    if error.get("type") == "missing":
        problem = "is missing (send null for an unknown value)" if column else f"{'.'.join(map(str, loc))} is missing"
    else:
        problem = error.get("msg", "is not valid")
        if "input" in error and column:
            shown = repr(error["input"])
            problem += f" (got {shown[:80] + '...' if len(shown) > 80 else shown})"
    return record, column, problem


def _validation_answer(exc: RequestValidationError) -> JSONResponse:
    details, sentences = [], []
    for error in exc.errors()[:50]:
        record, column, problem = _problem(error)
        details.append({"record": record, "column": column, "problem": problem,
                        "loc": [str(p) for p in error.get("loc", ())]})
        where = f"Record {record}, column {column!r}: " if column else (f"Record {record}: " if record is not None
                                                                        else "Request: ")
        sentences.append(where + problem)
    message = "; ".join(sentences[:5]) + (f"; and {len(sentences) - 5} more problem(s)" if len(sentences) > 5 else "")
    return JSONResponse(status_code=422, content={"message": message + ".", "detail": details})


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def create_app(bundle, *, name: str = "model", max_records: int = MAX_RECORDS, local_only: bool = False) -> FastAPI:
    """The FastAPI app serving ``bundle``; ``local_only`` answers only requests sent to localhost."""
    record_model, columns = _record_model(bundle)
    request_model, response_model = _answer_models(bundle, record_model, max_records)
    classes = list(bundle.classes or [])
    description = (f"Predicts **{bundle.target}** ({bundle.task}) from {len(columns)} column(s). "
                   "Send rows as JSON records; see `GET /schema` for the columns and their kinds.")
    app = FastAPI(title=f"Assay model: {name}", description=description, version="1",
                  max_body_size=MAX_BODY_BYTES, redoc_url=None)
    if local_only:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=_LOCAL_NAMES)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        return _validation_answer(exc)

    @app.exception_handler(AssayError)
    async def _refused(_request: Request, exc: AssayError):
        return JSONResponse(status_code=422, content={"message": str(exc), "detail": []})

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception):
        incident = uuid.uuid4().hex[:8]
        log.error("prediction failed (incident %s)", incident, exc_info=exc)
        return JSONResponse(status_code=500, content={"message": f"The model could not score these records "
                                                                 f"(incident {incident}); see the service log."})

    @app.get("/health", summary="Is the service up, and which model does it serve?")
    def health() -> dict:
        return {"status": "ok", "model": name, "task": bundle.task, "target": bundle.target}

    @app.get("/schema", response_model=_Schema, summary="The columns a record needs, with their kinds")
    def schema() -> _Schema:
        return _Schema(
            model=name, task=bundle.task, target=bundle.target, classes=bundle.classes, threshold=bundle.threshold,
            columns=[_Column(name=c, kind=k, type=_TYPES.get(k, (str, "a label"))[1])
                     for c, k in bundle.input_schema.items()],
            max_records=max_records,
        )

    @app.post("/predict", response_model=response_model, summary="Score records",
              responses={422: {"description": "a record is invalid: the message names the record, column and "
                                              "problem"}})
    def predict(body: request_model) -> dict:  # type: ignore[valid-type]
        records = body.records
        ignored = sorted({key for r in records for key in (r.model_extra or {})} - {bundle.target})[:100]
        frame = pd.DataFrame({column: [getattr(r, f"c{i}") for r in records] for i, column in enumerate(columns)})
        scored = scoring.score(bundle, frame).predictions
        labels = scored["prediction"].tolist()
        out = []
        if classes:
            proba = scored[[f"proba:{c}" for c in classes]].to_numpy()
            for label, row in zip(labels, proba):
                out.append({"prediction": _json_value(label),
                            "probabilities": {str(c): _json_value(p) for c, p in zip(classes, row)}})
        else:
            out = [{"prediction": _json_value(v)} for v in labels]
        return {"predictions": out, "ignored_columns": ignored}

    return app


def serve(bundle, *, host: str = "127.0.0.1", port: int = 8000, name: str = "model",
          log_level: str = "info") -> None:
    """Run the service until interrupted (uvicorn, one process)."""
    import uvicorn

    app = create_app(bundle, name=name, local_only=is_loopback(host))
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False, timeout_graceful_shutdown=5)
