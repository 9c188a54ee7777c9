"""``plastinka-api serve`` and ``plastinka-api demo``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import uvicorn
from pydantic import ValidationError

from plastinka_api import bootstrap
from plastinka_api.app import build_context, create_app
from plastinka_api.demo import DemoError, run
from plastinka_api.metrics import Metrics
from plastinka_api.settings import Settings


def serve(settings: Settings) -> int:
    # No per-request access log: at a thousand status polls a second the log line cost more than the read;
    # requests are counted and timed per route in /metrics instead.
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": False,
        "access_log": settings.access_log,
    }
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), **common)
        return 0
    # Several processes on one database, as several instances are: claims and transitions are conditional
    # UPDATEs, so each job is still processed once. The first-run work (migration, admin key printed once,
    # sample dataset) happens here, once, before the workers start and find it done.
    asyncio.run(_prepare(settings))
    os.environ["PLASTINKA_HOST"], os.environ["PLASTINKA_PORT"] = settings.host, str(settings.port)
    uvicorn.run("plastinka_api.app:create_app", factory=True, workers=settings.workers, **common)
    return 0


async def _prepare(settings: Settings) -> None:
    metrics = Metrics()
    ctx = await anyio.to_thread.run_sync(build_context, settings, metrics)
    await ctx.store.open()
    try:
        await bootstrap.run(ctx, sys.stdout)
    finally:
        await ctx.store.close()
        ctx.db.engine.dispose()


def demo(settings: Settings, url: str | None, key: str | None, horizon: int) -> int:
    try:
        run(url, key, settings=settings, horizon=horizon)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plastinka-api", description="The Plastinka Sales Predictor API.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the API (settings from PLASTINKA_* variables)")
    p_serve.add_argument("--host", help="override PLASTINKA_HOST")
    p_serve.add_argument("--port", type=int, help="override PLASTINKA_PORT")
    p_demo = sub.add_parser("demo", help="upload -> train -> predict -> results against a (self-started) server")
    p_demo.add_argument("--url", help="server base URL (default: http://PLASTINKA_HOST:PLASTINKA_PORT)")
    p_demo.add_argument("--key", help="an analyst or admin key (default: $PLASTINKA_API_KEY)")
    p_demo.add_argument("--horizon", type=int, default=3, help="months to forecast (default 3)")
    args = parser.parse_args(argv)
    level = logging.INFO if args.command == "serve" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {
        k: v
        for k, v in {"host": getattr(args, "host", None), "port": getattr(args, "port", None)}.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:  # e.g. a weak bootstrap key: say what to change, without a traceback
        problems = "; ".join(str(error["msg"]) for error in exc.errors(include_input=False))  # never echo a secret
        print(f"invalid settings: {problems}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings)
    return demo(settings, args.url, args.key, args.horizon)
