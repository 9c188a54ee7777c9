"""The job repository: every status change is one conditional UPDATE, recorded in the same transaction.

A transition names the statuses it may come from and the attempt it belongs to
(``UPDATE ... WHERE id = :id AND status IN (...) AND attempt = :n``). When no row matches, the event was a
duplicate or belongs to an older attempt: the method returns ``False`` (or ``None``) and nothing changes.

The repository is synchronous on purpose: SQLite and psycopg are both fastest and simplest in their sync
form, Alembic is sync anyway, and each call is one short transaction. An async API calls it off the event
loop (``anyio.to_thread.run_sync``); the dispatcher and sweeper can run it in a thread as they are.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypedDict, TypeVar, Unpack, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plastinka_schemas import JobKind, JobStatus
from plastinka_store.columns import UTCDateTime, utcnow
from plastinka_store.db import IMMEDIATE
from plastinka_store.ids import job_kind_of, new_job_id
from plastinka_store.policy import RetryPolicy
from plastinka_store.states import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    CLAIMABLE_STATUSES,
    REQUEUE_EDGES,
    is_allowed,
)
from plastinka_store.tables import (
    JOB_TABLES,
    CloudFunctionLog,
    JobEventRow,
    JobRow,
    PredictionJob,
    TrainingJob,
    WebhookOutbox,
)

__all__ = [
    "ALL_OWNERS",
    "Candidate",
    "ExpiredLease",
    "IdempotencyConflict",
    "JobRepository",
    "QuotaExceeded",
    "fair_order",
]

J = TypeVar("J", TrainingJob, PredictionJob)


class Submission(TypedDict, total=False):
    """How a job of either kind is queued, besides what it works on (all optional)."""

    parameters: dict[str, Any] | None  # the job's parameters, stored as given
    idempotency_key: str | None  # a repeat with the same key (and request) returns the first job
    callback_url: str | None  # where the job-end webhook goes
    max_attempts: int | None  # attempts before dead_letter; None: the retry policy's
    max_waiting: int | None  # the owner's limit of waiting jobs; None: no limit


log = logging.getLogger(__name__)
_S = JobStatus


def _error(error_type: str | None, message: str | None, traceback: str | None) -> dict[str, Any]:
    """The job columns of its last failure (all None to clear them)."""
    return {"error_type": error_type, "error_message": message, "error_traceback": traceback}


def _ended(now: datetime) -> dict[str, Any]:
    """The job columns of a job that has finished: when, and no lease left."""
    return {"finished_at": now, "lease_expires_at": None}


class _AllOwners:
    """The explicit "every owner" scope of admin and system reads (never a default)."""

    def __repr__(self) -> str:
        return "ALL_OWNERS"


ALL_OWNERS: Final = _AllOwners()
Owner = str | _AllOwners


class IdempotencyConflict(Exception):
    """The idempotency key was used before by the same owner with a different request."""

    def __init__(self, job_id: str, idempotency_key: str) -> None:
        super().__init__(f"idempotency key {idempotency_key!r} already created job {job_id} with other parameters")
        self.job_id = job_id
        self.idempotency_key = idempotency_key


class QuotaExceeded(Exception):
    """The owner already has ``limit`` jobs waiting to be dispatched; nothing was written."""

    def __init__(self, owner: str, waiting: int, limit: int) -> None:
        super().__init__(f"{waiting} jobs of this owner are already waiting (limit {limit}); submit again later")
        self.owner = owner
        self.waiting = waiting
        self.limit = limit


_NEVER: Final = datetime.min.replace(tzinfo=UTC)
#: PostgreSQL advisory lock key of the dispatch claim: one claimer at a time reads the owners' load and claims.
DISPATCH_LOCK: Final = 0x706C_6469  # "pldi"


@dataclass(frozen=True)
class Candidate:
    """A due job as the fair claim sees it."""

    owner: str
    due: datetime
    job_id: str
    kind: JobKind
    attempt: int
    status: JobStatus


def fair_order(
    queues: Mapping[str, Sequence[Candidate]],
    active: Mapping[str, int],
    last_served: Mapping[str, datetime],
    *,
    limit: int,
    per_owner: int | None,
    now: datetime,
) -> list[Candidate]:
    """Up to ``limit`` candidates, owners in turn: each pick goes to the owner with the fewest jobs in flight
    (``active`` plus those picked so far), then to the one served least recently (``last_served``: its latest
    dispatch; never served goes first), then to the oldest due job; never past ``per_owner`` for one owner.

    So an owner with a burst takes a slot only when no owner with less in flight, or served longer ago, has a
    job due; each owner's own jobs keep their due order.
    """
    load = Counter(active)
    served = {owner: last_served.get(owner, _NEVER) for owner in queues}
    heads = dict.fromkeys(queues, 0)
    picked: list[Candidate] = []
    while len(picked) < limit:
        best: Candidate | None = None
        for owner, queue in queues.items():
            if heads[owner] >= len(queue) or (per_owner is not None and load[owner] >= per_owner):
                continue
            head = queue[heads[owner]]
            key = (load[owner], served[owner], head.due, head.job_id)
            if best is None or key < (load[best.owner], served[best.owner], best.due, best.job_id):
                best = head
        if best is None:
            break
        picked.append(best)
        heads[best.owner] += 1
        load[best.owner] += 1
        served[best.owner] = now + timedelta(microseconds=len(picked))
    return picked


@dataclass(frozen=True)
class ExpiredLease:
    job_id: str
    kind: JobKind
    attempt: int
    status: JobStatus
    lease_expires_at: datetime


def _table(
    cls: type[TrainingJob] | type[PredictionJob] | type[JobEventRow] | type[CloudFunctionLog] | type[WebhookOutbox],
) -> sa.Table:
    return cast(sa.Table, sa.inspect(cls).local_table)


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _values(statuses: Sequence[JobStatus] | frozenset[JobStatus]) -> list[str]:
    return sorted(JobStatus(s).value for s in statuses)


class JobRepository:
    """Job state on one database (SQLite or PostgreSQL), safe to share between threads and processes."""

    def __init__(
        self, engine: Engine, policy: RetryPolicy | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self._write_engine = engine.execution_options(**{IMMEDIATE: True})
        self._postgres = engine.dialect.name == "postgresql"

    # --- transactions ---------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the repository clock must return timezone-aware datetimes")
        return now

    @staticmethod
    def _event(
        conn: Connection,
        job_id: str,
        attempt: int,
        at: datetime,
        type_: str,
        status: JobStatus | None,
        *,
        progress: float | None = None,
        message: str | None = None,
    ) -> None:
        conn.execute(
            sa.insert(_table(JobEventRow)).values(
                job_id=job_id,
                job_kind=job_kind_of(job_id),
                attempt=attempt,
                at=at,
                type=type_,
                status=status,
                progress=progress,
                message=message,
            )
        )

    def _apply(
        self,
        session: Session,
        job_id: str,
        *,
        attempt: int,
        sources: frozenset[JobStatus],
        target: JobStatus,
        values: dict[str, Any],
        now: datetime,
        event: str | None,
        message: str | None = None,
        progress: float | None = None,
        where: Sequence[sa.ColumnElement[bool]] = (),
    ) -> bool:
        """The one conditional UPDATE behind every transition; records the event when it applied."""
        for source in sources:
            if source != target and not is_allowed(source, target):
                raise AssertionError(f"{source} -> {target} is not an edge of the state machine")
        table = _table(JOB_TABLES[job_kind_of(job_id)])
        conn = session.connection()
        result = conn.execute(
            sa.update(table)
            .where(
                table.c.id == job_id,
                table.c.status.in_(_values(sources)),
                table.c.attempt == attempt,
                *where,
            )
            .values(status=target, updated_at=now, **values)
        )
        if result.rowcount != 1:
            log.info("ignored -> %s for %s attempt %d: duplicate or stale", target.value, job_id, attempt)
            return False
        if event is not None:
            self._event(conn, job_id, attempt, now, event, target, progress=progress, message=message)
        if target.is_terminal:
            self._enqueue_webhook(conn, table, job_id, target, now)
        return True

    @staticmethod
    def _enqueue_webhook(conn: Connection, table: sa.Table, job_id: str, target: JobStatus, now: datetime) -> None:
        """The job-end webhook joins the outbox in the transition's own transaction (when it has a URL)."""
        outbox = _table(WebhookOutbox)
        source = sa.select(
            table.c.id,
            table.c.callback_url,
            sa.literal(f"job.{target.value}"),
            sa.literal(now, UTCDateTime),
            sa.literal(now, UTCDateTime),
            sa.literal(0),
        ).where(table.c.id == job_id, table.c.callback_url.is_not(None))
        columns = ["job_id", "url", "event", "created_at", "next_attempt_at", "attempts"]
        conn.execute(sa.insert(outbox).from_select(columns, source))

    # --- creation -------------------------------------------------------------------------------------

    def create_training_job(
        self, *, owner: str, dataset_id: str, **submission: Unpack[Submission]
    ) -> tuple[TrainingJob, bool]:
        """Queue a training job; with an idempotency key already used by ``owner``, return that job instead.

        Returns ``(job, created)``. Raises :class:`IdempotencyConflict` when the key was used for a different
        request, and :class:`QuotaExceeded` when ``owner`` already has ``max_waiting`` jobs waiting (of either
        kind; counted and written in one serialised transaction, so concurrent submissions cannot overshoot).
        ``submission``: see :class:`Submission`.
        """
        return self._create(TrainingJob, owner, {"dataset_id": dataset_id}, submission)

    def create_prediction_job(
        self,
        *,
        owner: str,
        model_id: str,
        horizon: int,
        dataset_id: str | None = None,
        **submission: Unpack[Submission],
    ) -> tuple[PredictionJob, bool]:
        """Queue a prediction job; idempotent per ``(owner, idempotency_key)`` and limited by ``max_waiting``
        like training jobs."""
        fields = {"model_id": model_id, "horizon": horizon, "dataset_id": dataset_id}
        return self._create(PredictionJob, owner, fields, submission)

    def _create(self, cls: type[J], owner: str, fields: dict[str, Any], submission: Submission) -> tuple[J, bool]:
        fields = {
            **fields,
            "parameters": dict(submission.get("parameters") or {}),
            "callback_url": submission.get("callback_url"),
        }
        idempotency_key = submission.get("idempotency_key")
        max_attempts = submission.get("max_attempts")
        max_waiting = submission.get("max_waiting")
        if idempotency_key is not None:
            existing = self._by_idempotency_key(cls, owner, idempotency_key)
            if existing is not None:
                return self._same_request(existing, idempotency_key, fields), False
        now = self._now()
        limit = self.policy.max_attempts if max_attempts is None else max_attempts
        job = cls(
            id=new_job_id(cls.KIND),
            owner=owner,
            status=_S.QUEUED,
            attempt=0,
            max_attempts=limit,
            next_attempt_at=now,
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
            **fields,
        )
        try:
            with self._write() as session:
                if max_waiting is not None:
                    self._check_waiting(session.connection(), owner, max_waiting)
                session.add(job)
                session.flush()
                self._event(session.connection(), job.id, 0, now, "created", _S.QUEUED)
        except IntegrityError:
            # Another request with the same key won the race: its job is the answer.
            if idempotency_key is None:
                raise
            existing = self._by_idempotency_key(cls, owner, idempotency_key)
            if existing is None:
                raise
            return self._same_request(existing, idempotency_key, fields), False
        return job, True

    def _check_waiting(self, conn: Connection, owner: str, limit: int) -> None:
        """Raise :class:`QuotaExceeded` when ``owner`` has ``limit`` jobs queued or waiting for a retry.

        On PostgreSQL a transaction-scoped advisory lock per owner serialises this count with the insert that
        follows; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock.
        """
        if self._postgres:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"plastinka-owner:{owner}"))))
        waiting = sum(self._count_owner(conn, kind, owner, CLAIMABLE_STATUSES) for kind in JobKind)
        if waiting >= limit:
            raise QuotaExceeded(owner, waiting, limit)

    @staticmethod
    def _count_owner(conn: Connection, kind: JobKind, owner: str, statuses: frozenset[JobStatus]) -> int:
        table = _table(JOB_TABLES[kind])
        query = sa.select(sa.func.count()).where(table.c.owner == owner, table.c.status.in_(_values(statuses)))
        return int(conn.execute(query).scalar() or 0)

    def _by_idempotency_key(self, cls: type[J], owner: str, key: str) -> J | None:
        with self._read() as session:
            return session.scalars(sa.select(cls).where(cls.owner == owner, cls.idempotency_key == key)).first()  # type: ignore[arg-type]

    @staticmethod
    def _same_request(existing: J, key: str, fields: dict[str, Any]) -> J:
        # Compare as stored: JSON turns tuples into lists, so (0.5,) and [0.5] are the same request.
        if any(_as_json(getattr(existing, name)) != _as_json(value) for name, value in fields.items()):
            raise IdempotencyConflict(existing.id, key)
        return existing

    # --- dispatch -------------------------------------------------------------------------------------

    def claim_due(
        self, limit: int = 10, *, kinds: Sequence[JobKind] = tuple(JobKind), per_owner: int | None = None
    ) -> list[JobRow]:
        """Hand due jobs to this dispatcher: ``queued``/``retry_wait`` -> ``dispatched``, ``attempt += 1``.

        At most ``limit`` jobs in all, owners in turn (:func:`fair_order`: fewest jobs in flight first, then
        the owner served least recently, then the oldest due job), never more than ``per_owner`` in flight
        for one owner. Safe with many dispatchers: on PostgreSQL the claim holds a transaction-scoped advisory
        lock, so the load it reads is the load it claims against; on SQLite the transaction takes the write
        lock first (``BEGIN IMMEDIATE``). Each claim is a conditional UPDATE from a waiting status, so a job
        is claimed once, and a job cancelled before its claim is never claimed.
        """
        now = self._now()
        lease = self.policy.lease_expires_at(now)
        with self._write() as session:
            conn = session.connection()
            if self._postgres:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(DISPATCH_LOCK)))
            active: Counter[str] = Counter()
            queues: dict[str, list[Candidate]] = {}
            for kind in JobKind:
                active.update(self._active_by_owner(conn, kind))
            for kind in kinds:
                for candidate in self._due_by_owner(conn, kind, now, limit):
                    queues.setdefault(candidate.owner, []).append(candidate)
            for queue in queues.values():
                queue.sort(key=lambda c: (c.due, c.job_id))
            served = self._last_served(conn, list(queues)) if queues else {}
            claimed: dict[JobKind, list[str]] = {}
            for candidate in fair_order(queues, active, served, limit=limit, per_owner=per_owner, now=now):
                applied = self._apply(
                    session,
                    candidate.job_id,
                    attempt=candidate.attempt,
                    sources=frozenset({candidate.status}),
                    target=_S.DISPATCHED,
                    values={
                        "attempt": candidate.attempt + 1,
                        "lease_expires_at": lease,
                        "dispatched_at": now,
                        "heartbeat_at": None,
                        "progress": None,
                    },
                    now=now,
                    event=None,
                )
                if applied:
                    self._event(conn, candidate.job_id, candidate.attempt + 1, now, "dispatched", _S.DISPATCHED)
                    claimed.setdefault(candidate.kind, []).append(candidate.job_id)
            jobs: list[JobRow] = []
            order = {job_id: i for i, job_id in enumerate(i for ids in claimed.values() for i in ids)}
            for kind, ids in claimed.items():
                cls = JOB_TABLES[kind]
                jobs.extend(session.scalars(sa.select(cls).where(cls.id.in_(ids))))  # type: ignore[attr-defined,arg-type]
        return sorted(jobs, key=lambda job: order[job.id])

    @staticmethod
    def _active_by_owner(conn: Connection, kind: JobKind) -> dict[str, int]:
        """Jobs of one kind dispatched or running, per owner."""
        table = _table(JOB_TABLES[kind])
        query = (
            sa.select(table.c.owner, sa.func.count())
            .where(table.c.status.in_(_values(ACTIVE_STATUSES)))
            .group_by(table.c.owner)
        )
        return {str(row[0]): int(row[1]) for row in conn.execute(query).all()}

    @staticmethod
    def _last_served(conn: Connection, owners: list[str]) -> dict[str, datetime]:
        """Each owner's latest dispatch, of either kind (read through the owner index, for these owners only)."""
        served: dict[str, datetime] = {}
        for kind in JobKind:
            table = _table(JOB_TABLES[kind])
            query = (
                sa.select(table.c.owner, sa.func.max(table.c.dispatched_at))
                .where(table.c.owner.in_(owners), table.c.dispatched_at.is_not(None))
                .group_by(table.c.owner)
            )
            for row in conn.execute(query).all():
                owner, at = str(row[0]), row[1]
                served[owner] = max(at, served.get(owner, at))
        return served

    @staticmethod
    def _due_by_owner(conn: Connection, kind: JobKind, now: datetime, limit: int) -> list[Candidate]:
        """Each owner's ``limit`` oldest due jobs of one kind (a window per owner, so one owner's backlog
        cannot hide another owner's jobs from the claim)."""
        table = _table(JOB_TABLES[kind])
        rank = sa.func.row_number().over(partition_by=table.c.owner, order_by=(table.c.next_attempt_at, table.c.id))
        ranked = (
            sa.select(
                table.c.id, table.c.owner, table.c.attempt, table.c.status, table.c.next_attempt_at, rank.label("rank")
            )
            .where(table.c.status.in_(_values(CLAIMABLE_STATUSES)), table.c.next_attempt_at <= now)
            .subquery()
        )
        rows = conn.execute(sa.select(ranked).where(ranked.c.rank <= limit)).all()
        return [
            Candidate(str(r.owner), r.next_attempt_at, str(r.id), kind, int(r.attempt), JobStatus(r.status))
            for r in rows
        ]

    # --- reports from the function --------------------------------------------------------------------

    def mark_running(self, job_id: str, attempt: int, *, invocation_id: str | None = None) -> bool:
        """``dispatched -> running``: the function started; the lease restarts from now."""
        now = self._now()
        with self._write() as session:
            table = _table(JOB_TABLES[job_kind_of(job_id)])
            values: dict[str, Any] = {
                "started_at": sa.func.coalesce(table.c.started_at, now),
                "heartbeat_at": now,
                "lease_expires_at": self.policy.lease_expires_at(now),
            }
            if invocation_id is not None:
                values["invocation_id"] = invocation_id
            return self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=frozenset({_S.DISPATCHED}),
                target=_S.RUNNING,
                values=values,
                now=now,
                event="running",
            )

    def heartbeat(
        self, job_id: str, attempt: int, *, progress: float | None = None, message: str | None = None
    ) -> bool:
        """The attempt is alive: extend its lease (and record progress when given).

        Accepted while ``dispatched`` too, moving the job to ``running``: a lost or late ``running`` event
        must not make a working attempt look dead. Progress never goes backwards.
        """
        if progress is not None and not 0.0 <= progress <= 1.0:
            raise ValueError("progress is a fraction in [0, 1]")
        now = self._now()
        table = _table(JOB_TABLES[job_kind_of(job_id)])
        values: dict[str, Any] = {
            "heartbeat_at": now,
            "lease_expires_at": self.policy.lease_expires_at(now),
            "started_at": sa.func.coalesce(table.c.started_at, now),
        }
        if progress is not None:
            values["progress"] = sa.case(
                (sa.or_(table.c.progress.is_(None), table.c.progress < progress), progress),
                else_=table.c.progress,
            )
        with self._write() as session:
            return self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=ACTIVE_STATUSES,
                target=_S.RUNNING,
                values=values,
                now=now,
                event="progress" if progress is not None or message is not None else None,
                progress=progress,
                message=message,
            )

    def progress(self, job_id: str, attempt: int, fraction: float, message: str | None = None) -> bool:
        """Record progress (a heartbeat with a fraction and an event)."""
        return self.heartbeat(job_id, attempt, progress=fraction, message=message)

    def succeed(
        self,
        job_id: str,
        attempt: int,
        *,
        manifest: dict[str, Any],
        result: dict[str, Any] | None = None,
        also: Callable[[Session], None] | None = None,
    ) -> bool:
        """``dispatched|running -> succeeded`` with the attempt's artifact manifest and result summary.

        ``also`` runs in the same transaction only when the transition applied (e.g. to record the model),
        so a duplicate ``succeeded`` event never records anything twice.
        """
        now = self._now()
        with self._write() as session:
            applied = self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=ACTIVE_STATUSES,
                target=_S.SUCCEEDED,
                values={
                    "manifest": manifest,
                    "result": result,
                    "progress": 1.0,
                    **_ended(now),
                    **_error(None, None, None),
                },
                now=now,
                event="succeeded",
            )
            if applied and also is not None:
                also(session)
            return applied

    def fail(self, job_id: str, attempt: int, *, error_type: str, message: str, traceback: str | None = None) -> bool:
        """``dispatched|running -> failed``: a deterministic error (bad data, bad parameters); not retried."""
        now = self._now()
        with self._write() as session:
            return self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=ACTIVE_STATUSES,
                target=_S.FAILED,
                values={**_error(error_type, message, traceback), **_ended(now)},
                now=now,
                event="failed",
                message=f"{error_type}: {message}",
            )

    def retry(
        self,
        job_id: str,
        attempt: int,
        *,
        error_type: str,
        message: str,
        traceback: str | None = None,
        only_if_lease_expired: bool = False,
    ) -> JobStatus | None:
        """A transient failure of ``attempt``: ``retry_wait`` after a backoff, or ``dead_letter`` when it was
        the last attempt allowed. Returns the new status, or ``None`` for a stale or duplicate report.

        ``only_if_lease_expired`` (the sweeper) also requires the lease to still be expired in the UPDATE, so a
        heartbeat that lands between the sweeper's read and its write wins.
        """
        now = self._now()
        kind = job_kind_of(job_id)
        table = _table(JOB_TABLES[kind])
        with self._write() as session:
            row = session.connection().execute(sa.select(table.c.max_attempts).where(table.c.id == job_id)).first()
            if row is None:
                return None
            dead = self.policy.should_dead_letter(attempt, row.max_attempts)
            target = _S.DEAD_LETTER if dead else _S.RETRY_WAIT
            values: dict[str, Any] = {
                **_error(error_type, message, traceback),
                "lease_expires_at": None,
                "next_attempt_at": None if dead else self.policy.next_attempt_at(attempt, now),
            }
            if dead:
                values["finished_at"] = now
            where = [table.c.lease_expires_at < now] if only_if_lease_expired else []
            applied = self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=ACTIVE_STATUSES,
                target=target,
                values=values,
                now=now,
                event=target.value,
                message=f"{error_type}: {message}",
                where=where,
            )
            return target if applied else None

    # --- sweeper, users, admins -----------------------------------------------------------------------

    def expired_leases(self, limit: int = 100, *, kinds: Sequence[JobKind] = tuple(JobKind)) -> list[ExpiredLease]:
        """Dispatched or running attempts whose lease has passed without a heartbeat, oldest first."""
        now = self._now()
        found: list[ExpiredLease] = []
        with self._read() as session:
            conn = session.connection()
            for kind in kinds:
                table = _table(JOB_TABLES[kind])
                rows = conn.execute(
                    sa.select(table.c.id, table.c.attempt, table.c.status, table.c.lease_expires_at)
                    .where(table.c.status.in_(_values(ACTIVE_STATUSES)), table.c.lease_expires_at < now)
                    .order_by(table.c.lease_expires_at)
                    .limit(limit)
                ).all()
                found.extend(ExpiredLease(r.id, kind, r.attempt, r.status, r.lease_expires_at) for r in rows)
        return sorted(found, key=lambda lease: lease.lease_expires_at)[:limit]

    def cancel(self, job_id: str, *, owner: Owner, reason: str = "cancelled by user") -> bool:
        """Cancel a job that has not finished; ``False`` if it is unknown to ``owner`` or already finished."""
        now = self._now()
        kind = job_kind_of(job_id)
        table = _table(JOB_TABLES[kind])
        with self._write() as session:
            query = sa.select(table.c.attempt).where(table.c.id == job_id, *self._owner_filter(table, owner))
            attempt = session.connection().execute(query).scalar()
            if attempt is None:
                return False
            return self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=CANCELLABLE_STATUSES,
                target=_S.CANCELLED,
                values={**_ended(now), "next_attempt_at": None},
                now=now,
                event="cancelled",
                message=reason,
                where=self._owner_filter(table, owner),
            )

    def cancelled_among(self, job_ids: Iterable[str]) -> set[str]:
        """Those of ``job_ids`` that are cancelled (system read: the dispatcher stops their runs)."""
        by_kind: dict[JobKind, list[str]] = {}
        for job_id in job_ids:
            by_kind.setdefault(job_kind_of(job_id), []).append(job_id)
        found: set[str] = set()
        with self._read() as session:
            for kind, ids in by_kind.items():
                table = _table(JOB_TABLES[kind])
                query = sa.select(table.c.id).where(table.c.id.in_(ids), table.c.status == _S.CANCELLED.value)
                found.update(str(row[0]) for row in session.connection().execute(query))
        return found

    def requeue(self, job_id: str, *, extra_attempts: int | None = None, reason: str = "requeued by admin") -> bool:
        """Admin: put a ``dead_letter`` or ``failed`` job back in the queue with a fresh attempt budget.

        Attempt numbers keep counting up (a late event from an old attempt stays stale), so the budget is
        granted by raising ``max_attempts`` to ``attempt + extra_attempts``.
        """
        now = self._now()
        table = _table(JOB_TABLES[job_kind_of(job_id)])
        budget = self.policy.max_attempts if extra_attempts is None else extra_attempts
        if budget < 1:
            raise ValueError("extra_attempts must be at least 1")
        with self._write() as session:
            attempt = session.connection().execute(sa.select(table.c.attempt).where(table.c.id == job_id)).scalar()
            if attempt is None:
                return False
            return self._apply(
                session,
                job_id,
                attempt=attempt,
                sources=frozenset(source for source, _ in REQUEUE_EDGES),
                target=_S.QUEUED,
                values={
                    "max_attempts": attempt + budget,
                    "next_attempt_at": now,
                    "finished_at": None,
                    "lease_expires_at": None,
                    "progress": None,
                },
                now=now,
                event="requeued",
                message=reason,
            )

    # --- reads ----------------------------------------------------------------------------------------

    @staticmethod
    def _owner_filter(table: sa.Table, owner: Owner) -> list[sa.ColumnElement[bool]]:
        if isinstance(owner, _AllOwners):
            return []
        if not isinstance(owner, str):
            raise TypeError("owner must be a string or ALL_OWNERS")
        return [table.c.owner == owner]

    def get(self, job_id: str, *, owner: Owner) -> JobRow | None:
        """The job if it exists and belongs to ``owner`` (``ALL_OWNERS`` for admin and system reads)."""
        try:
            cls = JOB_TABLES[job_kind_of(job_id)]
        except ValueError:
            return None
        table = _table(cls)
        with self._read() as session:
            query = sa.select(cls).where(table.c.id == job_id, *self._owner_filter(table, owner))
            return cast(JobRow | None, session.scalars(query).first())

    def list_jobs(
        self,
        kind: JobKind,
        *,
        owner: Owner,
        statuses: Sequence[JobStatus] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[int, list[JobRow]]:
        """``(total, page)`` of ``owner``'s jobs of one kind, newest first."""
        cls = JOB_TABLES[kind]
        table = _table(cls)
        where = self._owner_filter(table, owner)
        if statuses is not None:
            where.append(table.c.status.in_(_values(statuses)))
        with self._read() as session:
            total = session.connection().execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()
            page = session.scalars(
                sa.select(cls)
                .where(*where)
                .order_by(table.c.created_at.desc(), table.c.id.desc())
                .offset(offset)
                .limit(limit)
            ).all()
        return int(total or 0), cast(list[JobRow], list(page))

    def get_with_events(self, job_id: str, *, owner: Owner) -> tuple[JobRow | None, list[JobEventRow]]:
        """A job and its history in one read transaction (the status endpoint's hot path): one connection
        checkout and one BEGIN instead of two, and the history is consistent with the row."""
        try:
            cls = JOB_TABLES[job_kind_of(job_id)]
        except ValueError:
            return None, []
        table = _table(cls)
        events = _table(JobEventRow)
        with self._read() as session:
            job = session.scalars(sa.select(cls).where(table.c.id == job_id, *self._owner_filter(table, owner))).first()
            if job is None:
                return None, []
            query = sa.select(JobEventRow).where(events.c.job_id == job_id).order_by(events.c.at, events.c.id)
            return cast(JobRow, job), list(session.scalars(query).all())

    def events(self, job_id: str, *, owner: Owner) -> list[JobEventRow]:
        """A job's history, oldest first; empty for a job ``owner`` cannot see."""
        try:
            table = _table(JOB_TABLES[job_kind_of(job_id)])
        except ValueError:
            return []
        events = _table(JobEventRow)
        visible = sa.exists().where(table.c.id == job_id, *self._owner_filter(table, owner))
        with self._read() as session:
            query = sa.select(JobEventRow).where(events.c.job_id == job_id, visible).order_by(events.c.at, events.c.id)
            return list(session.scalars(query).all())

    # --- webhook outbox -------------------------------------------------------------------------------

    def claim_webhooks(self, limit: int, lease: timedelta) -> list[WebhookOutbox]:
        """Due, undelivered webhooks, each leased for ``lease`` by one conditional UPDATE (one claimer wins)."""
        outbox = _table(WebhookOutbox)
        now = self._now()
        claimed: list[WebhookOutbox] = []
        with self._write() as session:
            due = session.scalars(
                sa.select(WebhookOutbox)
                .where(outbox.c.delivered_at.is_(None), outbox.c.gave_up_at.is_(None), outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            ).all()
            for row in due:
                result = session.connection().execute(
                    sa.update(outbox)
                    .where(outbox.c.id == row.id, outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= now)
                    .values(next_attempt_at=now + lease, attempts=outbox.c.attempts + 1)
                )
                if result.rowcount == 1:
                    row.attempts += 1
                    claimed.append(row)
        return claimed

    def webhook_done(
        self, webhook_id: int, *, delivered: bool, error: str | None = None, retry_at: datetime | None = None
    ) -> None:
        """Record a delivery: delivered, retried at ``retry_at``, or given up (no ``retry_at``)."""
        outbox = _table(WebhookOutbox)
        now = self._now()
        if delivered:
            values: dict[str, Any] = {"delivered_at": now, "last_error": None}
        elif retry_at is not None:
            values = {"next_attempt_at": retry_at, "last_error": error}
        else:
            values = {"gave_up_at": now, "last_error": error}
        with self._write() as session:
            session.connection().execute(sa.update(outbox).where(outbox.c.id == webhook_id).values(**values))

    def webhooks(self, job_id: str) -> list[WebhookOutbox]:
        outbox = _table(WebhookOutbox)
        with self._read() as session:
            return list(session.scalars(sa.select(WebhookOutbox).where(outbox.c.job_id == job_id)).all())

    # --- function invocation log ----------------------------------------------------------------------

    def log_invocation(self, entry: CloudFunctionLog) -> int:
        """Record one invocation attempt; returns its log id for :meth:`finish_invocation`."""
        with self._write() as session:
            session.add(entry)
            session.flush()
            if entry.id is None:
                raise RuntimeError("the database did not assign a log id")
            return entry.id

    def finish_invocation(self, log_id: int, *, outcome: str, **values: Any) -> bool:
        """Complete an invocation record (finished_at, duration_s, peak_memory_mb, cold_start, error...)."""
        allowed = set(_table(CloudFunctionLog).c.keys()) - {"id", "function_name", "job_id", "attempt"}
        unknown = set(values) - allowed
        if unknown:
            raise TypeError(f"unknown invocation log fields: {sorted(unknown)}")
        table = _table(CloudFunctionLog)
        with self._write() as session:
            result = session.connection().execute(
                sa.update(table).where(table.c.id == log_id).values(outcome=outcome, **values)
            )
            return result.rowcount == 1

    def invocations(self, job_id: str) -> list[CloudFunctionLog]:
        """Every invocation attempt logged for a job (system read: no owner), oldest first."""
        table = _table(CloudFunctionLog)
        with self._read() as session:
            query = sa.select(CloudFunctionLog).where(table.c.job_id == job_id).order_by(table.c.id)
            return list(session.scalars(query).all())
