"""Start-up chores: the admin key (bootstrap or first run) and the sample dataset of the quick start."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from plastinka_api.context import AppContext
from plastinka_api.datasets.service import has_any, register, spooled_path
from plastinka_api.errors import ApiError
from plastinka_api.keys.service import count_live_keys, create_key, replace_bootstrap_key
from plastinka_forecasting.synthetic import write_sample
from plastinka_schemas import Role
from plastinka_store.tables import Dataset

log = logging.getLogger(__name__)

#: The owner of the first admin key and of the sample dataset.
DEFAULT_OWNER = "shop"
SAMPLE_ITEMS = 150
SAMPLE_MONTHS = 36


@dataclass(frozen=True)
class AdminKey:
    """What the start did about the admin key: a first-run secret to print once, earlier bootstrap keys revoked."""

    new_secret: str | None = None
    revoked: list[str] = field(default_factory=list)


def ensure_admin_key(ctx: AppContext) -> AdminKey:
    """The bootstrap key of the settings is live and the only bootstrap key; with none set and no live key at
    all, a first-run admin key is made."""
    with ctx.db.write_session() as session:
        bootstrap = ctx.settings.bootstrap_admin_key
        if bootstrap is not None:
            revoked = replace_bootstrap_key(session, secret=bootstrap.get_secret_value(), owner=DEFAULT_OWNER)
            if revoked:
                log.warning("revoked %d earlier bootstrap key(s): %s", len(revoked), ", ".join(revoked))
            return AdminKey(revoked=revoked)
        if count_live_keys(session) > 0:
            return AdminKey()
        _, secret = create_key(session, name="first-run admin", role=Role.ADMIN, owner=DEFAULT_OWNER)
        return AdminKey(new_secret=secret)


async def ensure_sample_dataset(ctx: AppContext) -> Dataset | None:
    """On first start, generate the sample shop with the forecasting package and register it."""
    if not ctx.settings.sample_dataset or await ctx.db.call(has_any, ctx, DEFAULT_OWNER):
        return None
    with tempfile.TemporaryDirectory(prefix="plastinka-sample-") as tmp:
        files = await ctx.db.call(write_sample, Path(tmp), items=SAMPLE_ITEMS, months=SAMPLE_MONTHS)
        try:
            row, _ = await register(ctx, DEFAULT_OWNER, spooled_path(files.sales), spooled_path(files.stock))
        except ApiError as exc:  # the sample must never stop the server from starting
            log.error("sample dataset not registered: %s", exc.message)
            return None
    return row


async def run(ctx: AppContext, out: TextIO) -> None:
    admin = await ctx.db.call(ensure_admin_key, ctx)
    secret = admin.new_secret
    sample = await ensure_sample_dataset(ctx)
    url = ctx.settings.resolved_public_url
    lines = [f"Plastinka API on {url}  (docs: {url}/docs)"]
    lines.append(f"The shop's web page: {url}/  (sign in with an API key; Russian, English on the switch)")
    if secret is not None:
        lines += [
            f"First run: created an admin key for owner {DEFAULT_OWNER!r}. It is shown only this once:",
            f"    {secret}",
            f"Use it as 'Authorization: Bearer <key>' (e.g. export PLASTINKA_API_KEY={secret})",
        ]
    if admin.revoked:
        lines.append(
            "PLASTINKA_BOOTSTRAP_ADMIN_KEY has changed: the earlier bootstrap key no longer works "
            f"(revoked: {', '.join(admin.revoked)})"
        )
    if sample is not None:
        report = sample.report
        lines.append(
            f"Registered the sample shop dataset {sample.id}: {report.get('rows')} rows, {report.get('items')} items"
        )
    print("\n".join(lines), file=out, flush=True)
