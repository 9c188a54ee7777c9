"""``/api/v1/training`` and ``/api/v1/prediction``: submit, list, get, cancel.

Both kinds are built by :func:`job_routes` from the kind alone; the route names (and so the OpenAPI operation
ids, e.g. ``create_training_api_v1_training_post``) are those of the hand-written pairs they replace.
"""

# No ``from __future__ import annotations``: the request body's type is the kind's, chosen when the routes are
# built, and FastAPI reads it from the live annotation.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from plastinka_api import examples
from plastinka_api.auth import Analyst, Viewer
from plastinka_api.context import get_context
from plastinka_api.errors import error_responses
from plastinka_api.jobs import service
from plastinka_api.jobs.views import JobPublic, job_view
from plastinka_api.pagination import Paginated
from plastinka_schemas import (
    JobAccepted,
    JobKind,
    JobStatus,
    Page,
    PredictionJobCreate,
    PredictionJobPublic,
    TrainingJobCreate,
    TrainingJobPublic,
)

#: Each kind's request body and public body.
BODIES: dict[JobKind, tuple[type[TrainingJobCreate | PredictionJobCreate], type[JobPublic]]] = {
    JobKind.TRAINING: (TrainingJobCreate, TrainingJobPublic),
    JobKind.PREDICTION: (PredictionJobCreate, PredictionJobPublic),
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a submission safely: the same key returns the job it created first.",
    ),
]
StatusFilter = Annotated[list[JobStatus] | None, Query(alias="status")]

#: Each route's OpenAPI description, by route-name verb; ``{kind}`` and ``{what}`` are the kind's.
DESCRIPTIONS = {
    "create": (
        "Queues a {kind} job and answers 202 with its id and status URL (also in `Location`): poll "
        "`GET /api/v1/status/{{job_id}}` for its progress. {what} With an `Idempotency-Key` a repeated submission "
        "answers 200 with the first job. Needs an analyst or admin key."
    ),
    "list": "A page of the owner's {kind} jobs, newest first, optionally only those in the given statuses. Any role "
    "may call it.",
    "get": "The owner's {kind} job with this id: its parameters, status, attempts, progress and event history. Another "
    "owner's job, or a job of the other kind, answers 404. Any role may call it.",
    "cancel": "Cancels the owner's {kind} job if it has not finished: it is not started again and its late events are "
    "ignored. A finished job answers 409. Answers the job. Needs an analyst or admin key.",
}
#: Each kind's named request examples (``POST /{kind}`` only).
REQUEST_EXAMPLES = {JobKind.TRAINING: examples.TRAINING, JobKind.PREDICTION: examples.PREDICTION}
#: What the submission of each kind checks before queueing.
SUBMIT_CHECKS = {
    JobKind.TRAINING: "The dataset must be the owner's and hold enough history: fewer than three periods of sales "
    "at the chosen frequency is refused at once with 422 `too_little_history`, naming the dataset.",
    JobKind.PREDICTION: "It forecasts with the named model, or the owner's active one, from the named dataset, or the "
    "model's training data; item ids that name no record are refused at once with 422 `unknown_items`.",
}


def job_routes(router: APIRouter, kind: JobKind) -> None:
    """Add ``POST /{kind}``, ``GET /{kind}``, ``GET /{kind}/{job_id}`` and ``POST /{kind}/{job_id}/cancel``."""
    create_body, public = BODIES[kind]
    name, path = kind.value, f"/{kind.value}"

    async def create(
        body: create_body,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        principal: Analyst,
        idempotency_key: IdempotencyKey = None,
    ) -> JobAccepted:
        ctx = get_context(request)
        job, created = await service.submit(ctx, principal, body, idempotency_key)
        response.status_code = 202 if created else 200
        response.headers["Location"] = f"/api/v1/status/{job.id}"
        return JobAccepted(job_id=job.id, kind=kind, status=job.status, status_url=f"/api/v1/status/{job.id}")

    async def listing(request: Request, principal: Viewer, page: Paginated, status: StatusFilter = None) -> Any:
        ctx = get_context(request)
        total, rows = await ctx.db.call(service.listing, ctx, principal, kind, status, page)
        return page.page(total, [job_view(r, []) for r in rows])

    async def get(job_id: str, request: Request, principal: Viewer) -> Any:
        ctx = get_context(request)
        return await ctx.db.call(service.detail, ctx, principal, job_id, kind)

    async def cancel(job_id: str, request: Request, principal: Analyst) -> Any:
        return await service.cancel(get_context(request), principal, job_id, kind)

    # (path suffix, endpoint, method, route-name verb, response model, summary, extra route options)
    routes: list[tuple[str, Callable[..., Any], str, str, Any, str, dict[str, Any]]] = [
        ("", create, "POST", "create", JobAccepted, f"Queue a {name} job",
         {"status_code": 202, "responses": {200: {"description": "Idempotent repeat"}, **error_responses(429)}}),
        ("", listing, "GET", "list", Page[public], f"List {name} jobs", {}),  # type: ignore[valid-type]
        ("/{job_id}", get, "GET", "get", public, f"One {name} job", {}),
        ("/{job_id}/cancel", cancel, "POST", "cancel", public, f"Cancel a {name} job that has not finished", {}),
    ]  # fmt: skip
    for suffix, endpoint, method, verb, model, summary, extra in routes:
        router.add_api_route(
            path + suffix,
            endpoint,
            methods=[method],
            name=f"{verb}_{name}",
            response_model=model,
            tags=[name],
            summary=summary,
            description=DESCRIPTIONS[verb].format(kind=name, what=SUBMIT_CHECKS[kind]),
            openapi_extra=examples.request_examples("application/json", REQUEST_EXAMPLES[kind])
            if verb == "create"
            else None,
            **extra,
        )


router = APIRouter(responses=error_responses(400, 401, 403, 404, 409, 422))
for _kind in JobKind:
    job_routes(router, _kind)
