"""Persistence of survey drafts, submissions and published references (SQLAlchemy).

One embedded SQLite file by default; any SQLAlchemy URL (PostgreSQL, ...) through
``DMI_DATABASE_URL``. A company is known only by its resume token: the token is shown to the
company once and only its SHA-256 hash is stored, so a database dump does not let anyone open a
company's answers. Tokens carry 144 random bits, which is why a fast hash is enough.

Tables
------
``drafts``
    One per token: the answers given so far, the page reached, the language, and when it expires.
``submissions``
    Every submitted survey of a token (T0, T1, ...): the answers, the reference version that
    scored them and the scores it gave.
``references``
    Reference documents (see :mod:`dmi.service.reference`) by version; at most one published per
    instrument.
``result_links``
    The read-only results links: the SHA-256 hash of a view token (:func:`view_token`) -> the
    hash of the resume token whose submissions it shows, and when it expires.
``ladder_checks``
    One per token: the firm facts of its 梯度培育 pre-check, the policy version chosen and the
    evaluation they gave (the result row of :func:`dmi.eligibility.evaluate`), with the
    submission whose digital level was carried over, and the values typed but refused (kept
    apart: never a fact). A database made before this table existed gets it when it is opened,
    and a table made before the refused values were kept gets their column.
``sign_in_failures``
    Failed sign-ins per account name and per client address (see
    :class:`dmi.service.auth.SignInGuard`): how many and when the last was, under the SHA-256
    hash of the name or address.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from dmi.service.reference import Reference

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_RETENTION_DAYS",
    "Draft",
    "LadderCheck",
    "Store",
    "StoredReference",
    "Submission",
    "database_url",
    "hash_token",
    "new_token",
    "view_token",
]

DEFAULT_DATABASE_URL = "sqlite:///var/dmi.sqlite"
DEFAULT_RETENTION_DAYS = 365
_TOKEN_BYTES = 18

metadata = MetaData()

drafts = Table(
    "drafts",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("instrument_id", String(100), nullable=False),
    Column("lang", String(5), nullable=False, default="zh"),
    Column("answers", JSON, nullable=False),
    Column("page", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

references = Table(
    "references",
    metadata,
    Column("version", String(140), primary_key=True),
    Column("instrument_id", String(100), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False, default=False),
    Column("source", Text, nullable=False, default=""),
    Column("n_companies", Integer, nullable=False, default=0),
    Column("created_by", String(100), nullable=False, default=""),
    Column("document", Text, nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, index=True),
    Column("instrument_id", String(100), nullable=False, index=True),
    Column("reference_version", String(140), ForeignKey("references.version"), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("dmi", Float, nullable=False),
    Column("level", Integer, nullable=False),
    Column("tier", Integer, nullable=True),
    Column("scores", JSON, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# a view token opens a company's results and nothing else: it is derived one way from the resume
# token (so the company's link is always the same), and the database holds only its hash
result_links = Table(
    "result_links",
    metadata,
    Column("view_hash", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

ladder_checks = Table(
    "ladder_checks",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("facts", JSON, nullable=False),
    Column("policy", String(100), nullable=False),
    Column("evaluation", JSON, nullable=False),
    Column("submission_id", Integer, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # values typed but refused (not facts): added to an older table when it is opened
    Column("refused", JSON, nullable=True),
)


sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
)


def database_url(url: str | None = None) -> str:
    """The database to use: ``url``, else ``DMI_DATABASE_URL``, else ``var/dmi.sqlite``."""
    return url or os.environ.get("DMI_DATABASE_URL") or DEFAULT_DATABASE_URL


def new_token() -> str:
    """A fresh resume token (URL-safe, 144 random bits)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def view_token(token: str) -> str:
    """The read-only results token of a resume token (URL-safe, 144 bits).

    It is a one-way function of the resume token: whoever holds the resume code can always make
    the same link again, and the link does not reveal the code, so it opens the results but not
    the draft (:meth:`Store.draft` and :meth:`Store.save_draft` know only resume tokens).
    """
    digest = hashlib.sha256(b"dmi-results-view\0" + token.strip().encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:_TOKEN_BYTES]).decode("ascii")


@dataclass(frozen=True)
class Draft:
    """A survey in progress."""

    instrument_id: str
    lang: str
    answers: dict[str, Any]
    page: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Submission:
    """A submitted survey with the scores the recorded reference gave it."""

    id: int
    instrument_id: str
    reference_version: str
    answers: dict[str, Any]
    dmi: float
    level: int
    tier: int | None
    scores: dict[str, Any]
    submitted_at: datetime


@dataclass(frozen=True)
class LadderCheck:
    """A token's 梯度培育 pre-check: the facts given, the policy chosen, the evaluation.

    ``facts`` are plain values as :func:`dmi.eligibility.evaluate` takes them (numbers, ``yes``
    / ``no``, category codes, text); ``evaluation`` is the result row (statuses, points, the
    rules applied, condition states, gaps); ``submission_id`` the survey submission whose
    digital level was used (None when there was none); ``refused`` the values the firm typed
    that its facts' rules refused (fact code -> the value as typed), kept apart from ``facts``
    so that the form shows them again with their message, and never evaluated.
    """

    facts: dict[str, Any]
    policy: str
    evaluation: dict[str, Any]
    submission_id: int | None
    updated_at: datetime
    refused: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredReference:
    """A reference document as stored, with its publication state."""

    version: str
    instrument_id: str
    created_at: datetime
    published_at: datetime | None
    is_current: bool
    source: str
    n_companies: int
    created_by: str
    document: str

    def load(self) -> Reference:
        """Rebuild the :class:`~dmi.service.reference.Reference`."""
        return Reference.from_json(self.document)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes: they were written in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Store:
    """Drafts, submissions and references in one SQL database.

    Parameters
    ----------
    url
        A SQLAlchemy URL; default :func:`database_url`. A SQLite file's folder is created.
    retention_days
        How long drafts and submissions are kept after their last change; expired rows are
        removed by :meth:`purge_expired`.
    """

    def __init__(self, url: str | None = None, retention_days: int = DEFAULT_RETENTION_DAYS):
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days}")
        self.url = database_url(url)
        self.retention_days = retention_days
        self.engine: Engine = _engine(self.url)
        _create_schema(self.engine)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(days=self.retention_days)

    # -- drafts -----------------------------------------------------------------------------
    def new_draft(self, instrument_id: str, lang: str = "zh") -> str:
        """Start a draft; return its token (shown to the company, never stored in clear)."""
        token = new_token()
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(drafts).values(
                    token_hash=hash_token(token),
                    instrument_id=instrument_id,
                    lang=lang,
                    answers={},
                    page=0,
                    created_at=now,
                    updated_at=now,
                    expires_at=self._expiry(now),
                )
            )
        return token

    def draft(self, token: str) -> Draft | None:
        """The draft of a token, or None for an unknown or expired token."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(drafts).where(drafts.c.token_hash == hash_token(token))
            ).first()
        if row is None or _utc(row.expires_at) < _now():
            return None
        return Draft(
            row.instrument_id,
            row.lang,
            dict(row.answers or {}),
            int(row.page),
            _utc(row.created_at),
            _utc(row.updated_at),
            _utc(row.expires_at),
        )

    def save_draft(
        self,
        token: str,
        answers: Mapping[str, Any],
        page: int,
        lang: str | None = None,
    ) -> None:
        """Replace a draft's answers and page (and language); extends its expiry.

        Raises
        ------
        KeyError
            When the token is unknown.
        """
        now = _now()
        values: dict[str, Any] = {
            "answers": _plain(answers),
            "page": int(page),
            "updated_at": now,
            "expires_at": self._expiry(now),
        }
        if lang:
            values["lang"] = lang
        with self.engine.begin() as conn:
            result = conn.execute(
                update(drafts).where(drafts.c.token_hash == hash_token(token)).values(**values)
            )
        if result.rowcount == 0:
            raise KeyError("unknown resume token")

    # -- submissions -------------------------------------------------------------------------
    def submit(
        self,
        token: str,
        answers: Mapping[str, Any],
        reference_version: str,
        scores: Mapping[str, Any],
    ) -> Submission:
        """Record a submission of a token's survey with the scores it was given.

        ``scores`` is the score row (``dmi``, ``level``, ``dim_*``, ``tier`` ...).
        """
        now = _now()
        plain_scores = _plain(scores)
        tier = plain_scores.get("tier")
        instrument_id = self._draft_instrument(token)
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(submissions).values(
                    token_hash=hash_token(token),
                    instrument_id=instrument_id,
                    reference_version=reference_version,
                    answers=_plain(answers),
                    dmi=float(plain_scores["dmi"]),
                    level=int(plain_scores["level"]),
                    tier=None if tier is None else int(tier),
                    scores=plain_scores,
                    submitted_at=now,
                    expires_at=self._expiry(now),
                )
            )
            conn.execute(
                update(drafts)
                .where(drafts.c.token_hash == hash_token(token))
                .values(updated_at=now, expires_at=self._expiry(now))
            )
            # the read-only link works from the first submission, as long as the results
            _record_link(conn, token, self._expiry(now))
            new_id = int(result.inserted_primary_key[0])
            row = conn.execute(select(submissions).where(submissions.c.id == new_id)).one()
        return _submission(row)

    def _draft_instrument(self, token: str) -> str:
        draft = self.draft(token)
        if draft is None:
            raise KeyError("unknown or expired resume token")
        return draft.instrument_id

    def submissions(self, token: str) -> list[Submission]:
        """A token's submissions, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(submissions)
                .where(submissions.c.token_hash == hash_token(token))
                .order_by(submissions.c.submitted_at, submissions.c.id)
            ).all()
        return [_submission(row) for row in rows]

    # -- read-only results links --------------------------------------------------------------
    def results_link(self, token: str) -> str:
        """The view token that shows a resume token's results read-only (see
        :func:`view_token`); recorded (as its hash) and kept as long as the draft.

        Raises
        ------
        KeyError
            When the resume token is unknown or expired.
        """
        draft = self.draft(token)
        if draft is None:
            raise KeyError("unknown or expired resume token")
        with self.engine.begin() as conn:
            return _record_link(conn, token, draft.expires_at)

    def shared_submissions(self, view: str) -> list[Submission]:
        """The submissions a view token shows, oldest first; [] for an unknown or expired
        one. A resume token is no view token: it shows nothing here."""
        now = _now()
        with self.engine.connect() as conn:
            link = conn.execute(
                select(result_links).where(result_links.c.view_hash == hash_token(view))
            ).first()
            if link is None or _utc(link.expires_at) < now:
                return []
            rows = conn.execute(
                select(submissions)
                .where(submissions.c.token_hash == link.token_hash)
                .order_by(submissions.c.submitted_at, submissions.c.id)
            ).all()
        return [_submission(row) for row in rows]

    def latest_answers(self, instrument_id: str) -> pd.DataFrame:
        """The latest submitted answers of every token of an instrument, one row each.

        The ``respondent_id`` is ``S<submission id>``: the token never leaves the store.
        """
        with self.engine.connect() as conn:
            latest = (
                select(func.max(submissions.c.id).label("id"))
                .where(submissions.c.instrument_id == instrument_id)
                .group_by(submissions.c.token_hash)
                .subquery()
            )
            rows = conn.execute(
                select(submissions.c.id, submissions.c.answers)
                .join(latest, latest.c.id == submissions.c.id)
                .order_by(submissions.c.id)
            ).all()
        records = [{**dict(row.answers or {}), "respondent_id": f"S{row.id}"} for row in rows]
        return pd.DataFrame.from_records(records)

    def submission_table(self, instrument_id: str) -> pd.DataFrame:
        """Every stored submission of an instrument, oldest first, for the agency's dashboard.

        Returns
        -------
        pandas.DataFrame
            One row per submission: ``submission`` (its id), ``company`` (``S<id of the
            token's first submission>``: the same for every submission of one token, while the
            token never leaves the store), ``submitted_at`` (UTC), ``dmi``, ``level``, ``tier``
            (``Int64``), ``reference_version`` and ``answers`` (a dict).
        """
        columns = ["submission", "company", "submitted_at", "dmi", "level", "tier"]
        columns += ["reference_version", "answers"]
        with self.engine.connect() as conn:
            first = (
                select(submissions.c.token_hash, func.min(submissions.c.id).label("first_id"))
                .where(submissions.c.instrument_id == instrument_id)
                .group_by(submissions.c.token_hash)
                .subquery()
            )
            rows = conn.execute(
                select(
                    submissions.c.id,
                    first.c.first_id,
                    submissions.c.submitted_at,
                    submissions.c.dmi,
                    submissions.c.level,
                    submissions.c.tier,
                    submissions.c.reference_version,
                    submissions.c.answers,
                )
                .join(first, first.c.token_hash == submissions.c.token_hash)
                .where(submissions.c.instrument_id == instrument_id)
                .order_by(submissions.c.submitted_at, submissions.c.id)
            ).all()
        frame = pd.DataFrame(
            [
                (
                    int(r.id),
                    f"S{r.first_id}",
                    _utc(r.submitted_at),
                    float(r.dmi),
                    int(r.level),
                    r.tier,
                    r.reference_version,
                    dict(r.answers or {}),
                )
                for r in rows
            ],
            columns=columns,
        )
        frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
        frame["tier"] = frame["tier"].astype("Int64")
        return frame

    def count_submissions(self, instrument_id: str | None = None) -> int:
        """Number of stored submissions (of one instrument)."""
        query = select(func.count()).select_from(submissions)
        if instrument_id is not None:
            query = query.where(submissions.c.instrument_id == instrument_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # -- the 梯度培育 pre-check -----------------------------------------------------------------
    def save_ladder(
        self,
        token: str,
        facts: Mapping[str, Any],
        policy: str,
        evaluation: Mapping[str, Any],
        submission_id: int | None = None,
        refused: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep a token's pre-check (replacing the earlier one); extends the token's expiry.
        ``refused``: the values typed that were refused, kept apart from the facts.

        Raises
        ------
        KeyError
            When the token is unknown or expired (the pre-check lives with a draft).
        """
        if self.draft(token) is None:
            raise KeyError("unknown or expired resume token")
        now = _now()
        key = hash_token(token)
        values = {
            "facts": _plain(facts),
            "policy": str(policy),
            "evaluation": _plain(evaluation),
            "submission_id": None if submission_id is None else int(submission_id),
            "refused": _plain(refused or {}),
            "updated_at": now,
            "expires_at": self._expiry(now),
        }
        with self.engine.begin() as conn:
            done = conn.execute(
                update(ladder_checks).where(ladder_checks.c.token_hash == key).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(insert(ladder_checks).values(token_hash=key, **values))
            conn.execute(
                update(drafts)
                .where(drafts.c.token_hash == key)
                .values(updated_at=now, expires_at=self._expiry(now))
            )

    def ladder(self, token: str) -> LadderCheck | None:
        """A token's pre-check, or None (none kept, or expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ladder_checks).where(ladder_checks.c.token_hash == hash_token(token))
            ).first()
        if row is None or _utc(row.expires_at) < _now():
            return None
        return LadderCheck(
            dict(row.facts or {}),
            row.policy,
            dict(row.evaluation or {}),
            None if row.submission_id is None else int(row.submission_id),
            _utc(row.updated_at),
            dict(row.refused or {}),
        )

    # -- references --------------------------------------------------------------------------
    def add_reference(self, reference: Reference, *, created_by: str = "") -> str:
        """Store a reference (unpublished); return its version. Storing it twice is harmless."""
        version = reference.version
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(references.c.version).where(references.c.version == version)
            ).first()
            if exists is None:
                conn.execute(
                    insert(references).values(
                        version=version,
                        instrument_id=reference.instrument.id,
                        created_at=_now(),
                        published_at=None,
                        is_current=False,
                        source=reference.source,
                        n_companies=int(reference.n_companies),
                        created_by=created_by,
                        document=reference.to_json(),
                    )
                )
        return version

    def publish(self, version: str) -> None:
        """Make a stored reference the current one of its instrument.

        Raises
        ------
        KeyError
            When no reference has this version.
        """
        now = _now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(references.c.instrument_id).where(references.c.version == version)
            ).first()
            if row is None:
                raise KeyError(f"no reference with version {version!r}")
            conn.execute(
                update(references)
                .where(references.c.instrument_id == row.instrument_id)
                .values(is_current=False)
            )
            conn.execute(
                update(references)
                .where(references.c.version == version)
                .values(is_current=True, published_at=now)
            )

    def reference(self, version: str) -> StoredReference | None:
        """A stored reference by version."""
        with self.engine.connect() as conn:
            row = conn.execute(select(references).where(references.c.version == version)).first()
        return None if row is None else _stored_reference(row)

    def current_reference(self, instrument_id: str) -> StoredReference | None:
        """The published reference of an instrument, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(references).where(
                    references.c.instrument_id == instrument_id, references.c.is_current
                )
            ).first()
        return None if row is None else _stored_reference(row)

    def list_references(self, instrument_id: str) -> list[StoredReference]:
        """Every stored reference of an instrument, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(references)
                .where(references.c.instrument_id == instrument_id)
                .order_by(references.c.created_at.desc())
            ).all()
        return [_stored_reference(row) for row in rows]

    def ensure_reference(self, reference_factory: Any, instrument_id: str) -> StoredReference:
        """The current reference of an instrument, publishing ``reference_factory()`` if none."""
        current = self.current_reference(instrument_id)
        if current is None:
            version = self.add_reference(reference_factory(), created_by="system")
            self.publish(version)
            current = self.current_reference(instrument_id)
        assert current is not None
        return current

    # -- failed sign-ins ----------------------------------------------------------------------
    def failures(self, key: str) -> tuple[int, datetime | None]:
        """Failed sign-ins under ``key`` (an account name or client address): how many, and
        when the last was (``(0, None)`` when none)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sign_in_failures).where(sign_in_failures.c.key_hash == hash_token(key))
            ).first()
        return (0, None) if row is None else (int(row.failures), _utc(row.last_failure_at))

    def record_failure(self, key: str, now: datetime, forget_before: datetime) -> None:
        """Count one failed sign-in under ``key`` at ``now``; earlier failures are forgotten
        when the last of them was before ``forget_before``.

        The count is raised in the database (``failures + 1``), so that attempts made at once
        in several processes are all counted.
        """
        key_hash = hash_token(key)
        count = case(
            (sign_in_failures.c.last_failure_at < forget_before, 1),
            else_=sign_in_failures.c.failures + 1,
        )
        for _ in range(2):  # a second pass when another process inserted the row meanwhile
            try:
                with self.engine.begin() as conn:
                    done = conn.execute(
                        update(sign_in_failures)
                        .where(sign_in_failures.c.key_hash == key_hash)
                        .values(failures=count, last_failure_at=now)
                    )
                    if done.rowcount == 0:
                        conn.execute(
                            insert(sign_in_failures).values(
                                key_hash=key_hash, failures=1, last_failure_at=now
                            )
                        )
                return
            except IntegrityError:
                continue
        raise RuntimeError("internal error: a failed sign-in could not be counted")

    def clear_failures(self, key: str) -> None:
        """Forget the failed sign-ins under ``key`` (after a successful one)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(sign_in_failures).where(sign_in_failures.c.key_hash == hash_token(key))
            )

    # -- retention ---------------------------------------------------------------------------
    def purge_expired(self, now: datetime | None = None) -> tuple[int, int]:
        """Delete expired drafts and submissions; return how many of each.

        Expired pre-checks go too, and failed sign-ins whose last one is older than the
        retention period.
        """
        now = now or _now()
        with self.engine.begin() as conn:
            expired_drafts = conn.execute(delete(drafts).where(drafts.c.expires_at < now))
            expired_subs = conn.execute(delete(submissions).where(submissions.c.expires_at < now))
            conn.execute(delete(result_links).where(result_links.c.expires_at < now))
            conn.execute(delete(ladder_checks).where(ladder_checks.c.expires_at < now))
            conn.execute(
                delete(sign_in_failures).where(
                    sign_in_failures.c.last_failure_at < now - timedelta(days=self.retention_days)
                )
            )
        return int(expired_drafts.rowcount), int(expired_subs.rowcount)


def _record_link(conn: Any, token: str, expires_at: datetime) -> str:
    """Record (or keep until ``expires_at``) the read-only link of a resume token; return it."""
    view = view_token(token)
    values = {"token_hash": hash_token(token), "expires_at": expires_at}
    done = conn.execute(
        update(result_links).where(result_links.c.view_hash == hash_token(view)).values(**values)
    )
    if done.rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(result_links).values(
                        view_hash=hash_token(view), created_at=_now(), **values
                    )
                )
        except IntegrityError:  # another session recorded it meanwhile
            pass
    return view


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the app's readers go on while one session writes
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if not url.startswith("sqlite:///:memory:") and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def _create_schema(engine: Engine) -> None:
    """Create the tables that are missing, also when many processes open a new database at once.

    On SQLite the check and the creation run in one transaction that holds the database's write
    lock from its start (``BEGIN IMMEDIATE``): the other processes wait for it, then find the
    tables. Some of SQLite's locks are refused at once, without its busy wait (a new file
    switched to WAL while another process holds its write lock): those are waited for here, up
    to :data:`SCHEMA_LOCK_WAIT` seconds. Other databases do not serialise a check against
    another session's ``CREATE TABLE``: a creation that fails there (the table was made
    meanwhile) is tried again, with the check first, until one pass finds or makes every table;
    each failed pass saw another table made.
    """
    passes = len(metadata.tables) + 1
    deadline = time.monotonic() + SCHEMA_LOCK_WAIT
    failed = 0
    while True:
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                metadata.create_all(conn, checkfirst=True)
                _add_missing_columns(conn)
            return
        except DBAPIError as exc:
            if _is_busy(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            failed += 1
            if failed == passes:
                raise


SCHEMA_LOCK_WAIT = 60.0
"""Seconds a process opening a new SQLite database waits for the others creating it."""


def _is_busy(exc: DBAPIError) -> bool:
    """Whether SQLite refused a lock another connection holds (``database is locked``)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _add_missing_columns(conn: Any) -> None:
    """Add the nullable columns a table made by an earlier version lacks (the pre-check's
    ``refused``), in the transaction that created the missing tables."""
    for table in (ladder_checks,):
        have = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for column in table.c:
            if column.name not in have and column.nullable:
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")


def _submission(row: Any) -> Submission:
    return Submission(
        int(row.id),
        row.instrument_id,
        row.reference_version,
        dict(row.answers or {}),
        float(row.dmi),
        int(row.level),
        None if row.tier is None else int(row.tier),
        dict(row.scores or {}),
        _utc(row.submitted_at),
    )


def _stored_reference(row: Any) -> StoredReference:
    return StoredReference(
        row.version,
        row.instrument_id,
        _utc(row.created_at),
        _utc(row.published_at),
        bool(row.is_current),
        row.source,
        int(row.n_companies),
        row.created_by,
        row.document,
    )


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy with full float precision: numpy scalars to Python, NaN to None."""
    return {str(key): _plain_value(value) for key, value in values.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _plain(value)
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _now() -> datetime:
    return datetime.now(UTC)
