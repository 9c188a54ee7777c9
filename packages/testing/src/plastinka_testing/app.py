"""The in-process app kit of the API's tests (services/api/tests): a real app (lifespan included) on SQLite and
local storage, driven through httpx's ASGI transport; jobs are moved by the jobs repository and by signed
callback events. A test directory takes the fixtures by importing them in its conftest.py:
``from plastinka_testing.app import api, dataset_id, settings_factory, shop_files``."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import polars as pl
import pytest

from plastinka_api.app import create_app
from plastinka_api.context import AppContext
from plastinka_api.keys.service import create_key
from plastinka_api.settings import Settings
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_schemas import ArtifactRef, Role
from plastinka_storage.keys import job_artifact_key
from plastinka_store.tokens import sign_job_token

ADMIN_KEY = "pk_test_admin_5lSBIyc6CpO7wHoykrzI96MDddbTxjdrOyP0ydK5p5w"  # strong enough to bootstrap


@dataclass
class Api:
    """An app under test: its context and a client per role/owner."""

    app: Any
    ctx: AppContext
    clients: dict[str, httpx.AsyncClient]
    transport: httpx.ASGITransport
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, key: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(transport=self.transport, base_url="http://api.test", headers=headers)

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.clients["admin"]

    @property
    def analyst(self) -> httpx.AsyncClient:
        return self.clients["analyst"]

    @property
    def viewer(self) -> httpx.AsyncClient:
        return self.clients["viewer"]

    @property
    def other(self) -> httpx.AsyncClient:
        """An analyst of another owner."""
        return self.clients["other"]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "invoker": "none",
        "sample_dataset": False,
        "bootstrap_admin_key": ADMIN_KEY,
        "secret_key": "test-secret-" + "s" * 32,
        "sweep_interval_s": 3600,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    return lambda **overrides: make_settings(tmp_path, **overrides)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(make_settings(tmp_path)) as value:
        yield value


class running_api:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.out = io.StringIO()

    async def __aenter__(self) -> Api:
        self.app = create_app(self.settings, out=self.out)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        ctx: AppContext = self.app.state.ctx
        transport = httpx.ASGITransport(app=self.app)
        keys: dict[str, str] = {"admin": ADMIN_KEY}
        with ctx.db.session() as session:
            for name, role, owner in (
                ("analyst", Role.ANALYST, "shop"),
                ("viewer", Role.VIEWER, "shop"),
                ("other", Role.ANALYST, "rival"),
            ):
                _, keys[name] = create_key(session, name=name, role=role, owner=owner)
        self.api = Api(self.app, ctx, {}, transport)
        self.api.clients = {name: self.api.client(secret) for name, secret in keys.items()}
        self.api.keys = keys
        return self.api

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for client in self.api.clients.values():
            await client.aclose()
        await self._lifespan.__aexit__(exc_type, exc, tb)


# --- data ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    shop = generate_shop(items=25, months=24, seed=3, start=date(2022, 1, 1))
    files = write_shop(shop, tmp_path_factory.mktemp("shop"), fmt="csv")
    return files.sales, files.stock


async def upload(client: httpx.AsyncClient, sales: Path, stock: Path | None = None) -> httpx.Response:
    files = {"file": (sales.name, sales.read_bytes(), "text/csv")}
    if stock is not None:
        files["stock_file"] = (stock.name, stock.read_bytes(), "text/csv")
    return await client.post("/api/v1/datasets", files=files)


@pytest.fixture
async def dataset_id(api: Api, shop_files: tuple[Path, Path]) -> str:
    """The sample shop uploaded by the ``shop`` analyst."""
    response = await upload(api.analyst, *shop_files)
    assert response.status_code == 201
    return str(response.json()["id"])


# --- playing the function's part ----------------------------------------------------------------------


def token(ctx: AppContext, job_id: str, attempt: int, *, expires_in: float = 3600) -> str:
    return sign_job_token(ctx.keys.callback_tokens, job_id, attempt, datetime.now(UTC) + timedelta(seconds=expires_in))


def event(job_id: str, attempt: int, type_: str, **fields: Any) -> dict[str, Any]:
    return {"job_id": job_id, "attempt": attempt, "at": datetime.now(UTC).isoformat(), "type": type_, **fields}


async def post_event(
    client: httpx.AsyncClient, ctx: AppContext, body: dict[str, Any], auth: str | None = None
) -> httpx.Response:
    secret = auth if auth is not None else token(ctx, body["job_id"], body["attempt"])
    return await client.post(
        f"/api/v1/internal/jobs/{body['job_id']}/events", json=body, headers={"Authorization": f"Bearer {secret}"}
    )


async def put_artifact(ctx: AppContext, job_id: str, attempt: int, name: str, data: bytes) -> dict[str, Any]:
    ref: ArtifactRef = await ctx.store.put_bytes(job_artifact_key(job_id, attempt, name), data)
    return ref.model_dump()


async def training_manifest(ctx: AppContext, job_id: str, attempt: int) -> dict[str, Any]:
    metrics = {
        "mae": 0.42,
        "rmse": 0.9,
        "backtest": [{"model": "lightgbm", "mae": 0.42}, {"model": "naive", "mae": 0.61}],
    }
    return {
        "artifacts": {
            "model": await put_artifact(ctx, job_id, attempt, "model.txt", b"tree\n" * 10),
            "model_meta": await put_artifact(ctx, job_id, attempt, "model_meta.json", b'{"features": []}'),
            "metrics": await put_artifact(ctx, job_id, attempt, "metrics.json", json.dumps(metrics).encode()),
        }
    }


def forecast_frame(items: list[str], start: date = date(2024, 1, 1), months: int = 3) -> pl.DataFrame:
    rows = []
    for item in items:
        for m in range(months):
            period = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
            rows.append(
                {
                    "item_id": item,
                    "period": period,
                    "mean": 1.5,
                    "q_0.05": 0.0,
                    "q_0.25": 1.0,
                    "q_0.5": 1.0,
                    "q_0.75": 2.0,
                    "q_0.95": 4.0,
                }
            )
    return pl.DataFrame(rows)


async def prediction_manifest(
    ctx: AppContext, job_id: str, attempt: int, frame: pl.DataFrame, orders: pl.DataFrame | None = None
) -> dict[str, Any]:
    """The manifest of a prediction attempt: its forecast and, when given, its order list."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    found = {"forecast": await put_artifact(ctx, job_id, attempt, "forecast.parquet", buffer.getvalue())}
    if orders is not None:
        buffer = io.BytesIO()
        orders.write_parquet(buffer)
        found["orders"] = await put_artifact(ctx, job_id, attempt, "orders.parquet", buffer.getvalue())
    return {"artifacts": found}


async def claim(ctx: AppContext) -> list[Any]:
    """Be the dispatcher: move due jobs to dispatched (attempt + 1)."""
    return await ctx.db.call(ctx.repo.claim_due, 50)


async def succeed_prediction(api: Api, job_id: str, items: list[str], **fields: Any) -> httpx.Response:
    """Be the dispatcher and the predict function: claim the queued job and report its forecast of ``items``."""
    await claim(api.ctx)
    manifest = await prediction_manifest(api.ctx, job_id, 1, forecast_frame(items))
    return await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest, **fields))


async def run_training(api: Api, dataset_id: str, **body: Any) -> tuple[str, str]:
    """Submit a training job and succeed it through callbacks; returns (job_id, model_id)."""
    response = await api.analyst.post("/api/v1/training", json={"dataset_id": dataset_id, **body})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    await claim(api.ctx)
    manifest = await training_manifest(api.ctx, job_id, 1)
    done = await post_event(api.analyst, api.ctx, event(job_id, 1, "succeeded", manifest=manifest))
    assert done.status_code == 200 and done.json()["applied"], done.text
    detail = (await api.analyst.get(f"/api/v1/training/{job_id}")).json()
    return job_id, detail["model_id"]
