"""``GET /files/{key}``: serves the local store's signed URLs (the S3 backend's URLs go to S3 itself)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from plastinka_api.context import get_context
from plastinka_api.errors import Forbidden, NotFound, error_responses
from plastinka_storage.errors import InvalidSignature, ObjectNotFound

router = APIRouter(tags=["files"], responses=error_responses(403, 404, 422))


@router.get(
    "/files/{key:path}",
    summary="Download through a signed URL",
    description=(
        "Streams a stored file (a forecast, a model) named by a signed URL from `GET "
        "/api/v1/results/{job_id}/download`. No API key: the `expires` and `signature` parameters are "
        "the permission, and a URL that expired or was altered is refused with 403."
    ),
    response_class=StreamingResponse,
)
async def download(
    key: str,
    request: Request,
    expires: Annotated[str, Query(max_length=20)],
    signature: Annotated[str, Query(max_length=128)],
) -> StreamingResponse:
    ctx = get_context(request)
    verify = getattr(ctx.store, "verify_signature", None)
    if verify is None:
        raise NotFound("file", key)
    try:
        verify(method="GET", key=key, expires=expires, signature=signature)
    except InvalidSignature as exc:
        raise Forbidden(f"signed URL refused: {exc.reason}") from None
    try:
        info = await ctx.store.head(key)
    except ObjectNotFound:
        raise NotFound("file", key) from None
    stream = ctx.store.get_stream(key)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield chunk

    name = key.rsplit("/", 1)[-1]
    headers = {"Content-Length": str(info.size), "Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body(), media_type=info.content_type or "application/octet-stream", headers=headers)
