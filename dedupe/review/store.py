"""The review store: users, API tokens and the append-only decision trail, in SQLite or PostgreSQL.

    store = open_store(index="indexes/gc")                  # sqlite file indexes/gc/review.db
    store = open_store("postgresql://user@host/dedupe")     # shared deployment (psycopg 3)
    store.record_decision(id_a="a", id_b="b", verdict="overlap", user="alice", score=0.81,
                          model_id=det.encoder.model_id, text_hash_a=..., text_hash_b=...)
    store.decided_keys(current_hashes)   # {("a", "b"): "overlap by alice"} for check/report/queue

The schema is created and upgraded by the Alembic migrations in `dedupe/review/migrations`, run
on open. Decisions are never updated or deleted: a changed mind is a new row; an undo is a
`revoked` row pointing at the verdict it withdraws. Every database failure is re-raised as
`ReviewStoreError` naming the operation.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dedupe.errors import ReviewStoreError, UsageError
from dedupe.review.decisions import (
    Decision,
    PairDecisions,
    Role,
    User,
    Verdict,
    parse_role,
    parse_verdict,
)
from dedupe.review.engine import DB_NAME, create_store_engine, default_db_url, normalize_url
from dedupe.review.models import ApiTokenRow, DecisionRow, UserRow, WebSessionRow
from dedupe.review.security import (
    hash_password,
    hash_token,
    new_password,
    new_token,
    verify_password,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVOKED = "revoked"
_USER_NAME = re.compile(
    r"(?!-)[\w.@-]{1,100}"
)  # not "-bob": a command line reads that as an option


def open_store(
    url: str | None = None, *, index: str | Path | None = None, create: bool = True
) -> ReviewStore:
    """Open (and migrate) the store at `url`, or the SQLite file next to `index`.

    `create=False` (commands that only read, or change existing users): a SQLite file that
    does not exist is an error naming it, rather than a new empty database."""
    if url is None:
        if index is None:
            raise UsageError("give a database URL (--db / DEDUPE_DB_URL) or an index directory")
        url = default_db_url(index)
    if not create:
        parsed = make_url(normalize_url(url))
        file = parsed.database
        if parsed.get_backend_name() == "sqlite" and file and file != ":memory:":
            if not Path(file).exists():
                raise ReviewStoreError(
                    f"no review database at {file} (it is created by `dedupe users add` or "
                    f"`dedupe serve`; the default is <index>/{DB_NAME})"
                )
    return ReviewStore.open(url)


def _named(s: Session, name: str) -> UserRow | None:
    """The user called `name`, whatever the case ("Émile" is "émile"): one person, one name.
    Compared in Python: SQL `lower()` folds only ASCII letters in SQLite (and in PostgreSQL
    under the C collation)."""
    key = name.strip().casefold()
    return next((r for r in s.scalars(select(UserRow)) if r.name.casefold() == key), None)


def _end_sessions(s: Session, which: ColumnElement[bool]) -> None:
    """End the open browser sessions `which` selects (one session, or all of a user's)."""
    s.execute(
        update(WebSessionRow)
        .where(which, WebSessionRow.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _to_decision(row: DecisionRow) -> Decision:
    return Decision(
        id=row.id,
        id_a=row.id_a,
        id_b=row.id_b,
        verdict=row.verdict,
        comment=row.comment,
        user=row.user_name,
        created_at=_utc(row.created_at),
        score=row.score,
        model_id=row.model_id,
        text_hash_a=row.text_hash_a,
        text_hash_b=row.text_hash_b,
        revokes_id=row.revokes_id,
    )


def _to_user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role), active=row.active)


class ReviewStore:
    """Users, API tokens and decisions. Build with `ReviewStore.open(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, url: str) -> ReviewStore:
        store = cls(create_store_engine(url))
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _op(self, operation: str) -> Iterator[Session]:
        """A session in one transaction; database errors become `ReviewStoreError`."""
        try:
            with self._session.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise ReviewStoreError(f"review store {self.url}: {operation} failed: {exc}") from exc

    def migrate(self) -> None:
        """Bring the schema to the latest migration (Alembic, programmatically)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise ReviewStoreError(f"review store {self.url}: migrate failed: {exc}") from exc
        except Exception as exc:  # alembic's CommandError/ResolutionError: a newer database
            if type(exc).__module__.startswith("alembic"):
                raise ReviewStoreError(
                    f"review store {self.url}: migrate failed ({exc}); is the database from "
                    "a newer dedupe?"
                ) from exc
            raise

    # ----------------------------------------------------------------------------- users
    def add_user(
        self, *, name: str, role: str | Role, password: str | None = None
    ) -> tuple[User, str]:
        """Create a user; returns the user and the password (generated when not given)."""
        name = name.strip()
        if not _USER_NAME.fullmatch(name):
            raise UsageError(
                f"user name {name!r}: give 1-100 letters, digits or . _ @ - (no spaces or /; "
                "not starting with -)"
            )
        role = parse_role(role.value if isinstance(role, Role) else role)
        if password is not None and len(password) < 8:
            raise UsageError("password: at least 8 characters")
        secret = password if password is not None else new_password()
        with self._op("add user") as s:
            taken = _named(s, name)
            if taken is not None:
                raise ReviewStoreError(
                    f"user {taken.name!r} already exists (`dedupe users set-password "
                    f"{taken.name}` gives a new password, `dedupe users activate "
                    f"{taken.name}` lets a deactivated user in again; with the same --index "
                    "or --db)"
                )
            row = UserRow(
                name=name,
                role=role.value,
                password_hash=hash_password(secret),
                active=True,
                created_at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            return _to_user(row), secret

    def set_active(self, *, name: str, active: bool) -> User:
        with self._op("set user active") as s:
            row = self._user_row(s, name)
            row.active = active
            if not active:
                _end_sessions(s, WebSessionRow.user_id == row.id)
            return _to_user(row)

    def set_password(self, *, name: str, password: str | None = None) -> str:
        """A new password for `name` (generated when not given, and returned); the user's
        browser sessions end."""
        if password is not None and len(password) < 8:
            raise UsageError("password: at least 8 characters")
        secret = password if password is not None else new_password()
        with self._op("set password") as s:
            row = self._user_row(s, name)
            row.password_hash = hash_password(secret)
            _end_sessions(s, WebSessionRow.user_id == row.id)
        return secret

    def _user_row(self, s: Session, name: str) -> UserRow:
        row = _named(s, name)
        if row is None:
            raise UsageError(f"no user {name!r}")
        return row

    def users(self) -> list[User]:
        with self._op("list users") as s:
            return [_to_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, user_id: int) -> User | None:
        with self._op("get user") as s:
            row = s.get(UserRow, user_id)
            return _to_user(row) if row is not None else None

    def authenticate(self, *, name: str, password: str) -> User | None:
        """The active user with this name and password, else None (same work either way)."""
        with self._op("sign in") as s:
            row = _named(s, name)
            ok, rehash = verify_password(row.password_hash if row else None, password)
            if row is None or not ok or not row.active:
                return None
            if rehash:
                row.password_hash = hash_password(password)
            return _to_user(row)

    # ----------------------------------------------------------------------------- web sessions
    def start_session(self, user_id: int) -> str:
        """A new browser session for the user; returns its id (for the signed cookie)."""
        sid = new_token()
        with self._op("start session") as s:
            s.add(WebSessionRow(sid=sid, user_id=user_id, created_at=datetime.now(UTC)))
        return sid

    def session_user(self, sid: str, max_age: float) -> User | None:
        """The active user of a session that has not ended and is younger than `max_age` s."""
        with self._op("read session") as s:
            row = s.execute(
                select(UserRow, WebSessionRow.created_at)
                .join(WebSessionRow, WebSessionRow.user_id == UserRow.id)
                .where(WebSessionRow.sid == sid, WebSessionRow.ended_at.is_(None))
            ).one_or_none()
            if row is None or not row[0].active:
                return None
            if (datetime.now(UTC) - _utc(row[1])).total_seconds() > max_age:
                return None
            return _to_user(row[0])

    def end_session(self, sid: str) -> None:
        with self._op("end session") as s:
            _end_sessions(s, WebSessionRow.sid == sid)

    # ----------------------------------------------------------------------------- API tokens
    def add_token(self, *, user: str, label: str = "") -> str:
        """A new API token for `user`; only its hash is stored, so show it now or never."""
        token = new_token()
        with self._op("add token") as s:
            row = self._user_row(s, user)
            s.add(
                ApiTokenRow(
                    user_id=row.id,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=datetime.now(UTC),
                    revoked=False,
                )
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        with self._op("check token") as s:
            row = s.execute(
                select(UserRow)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(ApiTokenRow.token_hash == hash_token(token), ApiTokenRow.revoked.is_(False))
            ).scalar_one_or_none()
            return _to_user(row) if row is not None and row.active else None

    # ----------------------------------------------------------------------------- decisions
    def record_decision(
        self,
        *,
        id_a: str,
        id_b: str,
        verdict: str | Verdict,
        user: str,
        comment: str = "",
        score: float | None = None,
        model_id: str = "",
        text_hash_a: str = "",
        text_hash_b: str = "",
    ) -> Decision:
        """Append a verdict on the pair (ids in any order; stored as the sorted pair key).

        Repeating one's standing verdict with the same comment on the same texts appends nothing
        and returns the standing row."""
        v = parse_verdict(verdict.value if isinstance(verdict, Verdict) else verdict)
        if not id_a or not id_b or id_a == id_b:
            raise UsageError(f"a decision needs two different initiatives, got {id_a!r}, {id_b!r}")
        if id_b < id_a:
            id_a, id_b, text_hash_a, text_hash_b = id_b, id_a, text_hash_b, text_hash_a
        with self._op("record decision") as s:
            last = s.scalar(
                select(DecisionRow)
                .where(
                    DecisionRow.id_a == id_a,
                    DecisionRow.id_b == id_b,
                    DecisionRow.user_name == user,
                    DecisionRow.verdict != REVOKED,
                )
                .order_by(DecisionRow.id.desc())
                .limit(1)
            )
            if (
                last is not None
                and (last.verdict, last.comment, last.text_hash_a, last.text_hash_b)
                == (v.value, comment.strip(), text_hash_a, text_hash_b)
                and s.scalar(select(DecisionRow.id).where(DecisionRow.revokes_id == last.id))
                is None
            ):
                # The same verdict again (a retried POST, a double submit): one act, one row.
                return _to_decision(last)
            row = DecisionRow(
                id_a=id_a,
                id_b=id_b,
                verdict=v.value,
                comment=comment.strip(),
                user_name=user,
                created_at=datetime.now(UTC),
                score=score,
                model_id=model_id,
                text_hash_a=text_hash_a,
                text_hash_b=text_hash_b,
            )
            s.add(row)
            s.flush()
            return _to_decision(row)

    def undo_last(self, user: str) -> Decision | None:
        """Withdraw `user`'s latest standing verdict by appending a `revoked` row.

        Returns the withdrawn verdict, or None when the user has nothing left to undo.
        """
        for attempt in range(5):
            try:
                with self._op("undo decision") as s:
                    revoked_ids = select(DecisionRow.revokes_id).where(
                        DecisionRow.revokes_id.is_not(None)
                    )
                    target = s.scalar(
                        select(DecisionRow)
                        .where(
                            DecisionRow.user_name == user,
                            DecisionRow.verdict != REVOKED,
                            DecisionRow.id.not_in(revoked_ids),
                        )
                        .order_by(DecisionRow.id.desc())
                        .limit(1)
                    )
                    if target is None:
                        return None
                    s.add(
                        DecisionRow(
                            id_a=target.id_a,
                            id_b=target.id_b,
                            verdict=REVOKED,
                            comment=f"undo of decision {target.id}",
                            user_name=user,
                            created_at=datetime.now(UTC),
                            score=target.score,
                            model_id=target.model_id,
                            text_hash_a=target.text_hash_a,
                            text_hash_b=target.text_hash_b,
                            revokes_id=target.id,
                        )
                    )
                    return _to_decision(target)
            except ReviewStoreError as exc:
                # Another undo withdrew the same verdict first (unique revokes_id): try again.
                if not isinstance(exc.__cause__, IntegrityError) or attempt == 4:
                    raise
                time.sleep(0.01 * (attempt + 1))
        return None  # pragma: no cover

    def all_decisions(self) -> list[Decision]:
        """The whole audit trail, oldest first (verdicts and revocations)."""
        with self._op("read decisions") as s:
            rows = s.scalars(select(DecisionRow).order_by(DecisionRow.id))
            return [_to_decision(r) for r in rows]

    def decisions_for(self, id: str) -> list[Decision]:
        """Every row of the trail that involves initiative `id`, oldest first."""
        with self._op("read decisions") as s:
            rows = s.scalars(
                select(DecisionRow)
                .where((DecisionRow.id_a == id) | (DecisionRow.id_b == id))
                .order_by(DecisionRow.id)
            )
            return [_to_decision(r) for r in rows]

    def latest_decisions(
        self, current_hashes: Mapping[str, str] | None = None
    ) -> dict[tuple[str, str], PairDecisions]:
        """Standing decisions per pair: each reviewer's latest verdict that was not undone.

        With `current_hashes` ({initiative id: text hash}), only verdicts given on the texts the
        index holds now count (a decided pair whose text changed is open again). Reviewers who
        disagree are all kept: `PairDecisions.conflict` is then true.
        """
        trail = self.all_decisions()
        revoked = {d.revokes_id for d in trail if d.revokes_id is not None}
        latest: dict[tuple[str, str], dict[str, Decision]] = {}
        for d in trail:
            if d.verdict == REVOKED or d.id in revoked:
                continue
            if current_hashes is not None and not d.matches_text(current_hashes):
                continue
            latest.setdefault(d.key, {})[d.user] = d  # later rows replace earlier ones
        return {
            key: PairDecisions(key, tuple(sorted(by_user.values(), key=lambda d: d.id)))
            for key, by_user in latest.items()
        }

    def decided_keys(self, current_hashes: Mapping[str, str]) -> dict[tuple[str, str], str]:
        """{pair key: "overlap by alice"} for every pair decided on its current texts.

        Plain data for `Detector.check(decisions=...)`, the report and the queue: a pair in here
        is not flagged again until either initiative's text hash changes.
        """
        return {k: p.label for k, p in self.latest_decisions(current_hashes).items()}

    def decisions_as_labelled_pairs(
        self, current_hashes: Mapping[str, str] | None = None
    ) -> list[tuple[str, str, str]]:
        """(id_a, id_b, label) rows for calibration; label is duplicate/overlap/not_related.

        Pairs on which reviewers disagree are left out.
        """
        return [
            (k[0], k[1], p.verdict)
            for k, p in sorted(self.latest_decisions(current_hashes).items())
            if p.verdict is not None
        ]


__all__ = [
    "DB_NAME",
    "Decision",
    "PairDecisions",
    "ReviewStore",
    "Role",
    "User",
    "Verdict",
    "default_db_url",
    "normalize_url",
    "open_store",
    "parse_role",
    "parse_verdict",
]
