"""The review store against SQLite and a real PostgreSQL server (the `db_url` fixture)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from dedupe import Detector, Proposal
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import ReviewStoreError, UsageError
from dedupe.review.store import (
    ReviewStore,
    Role,
    default_db_url,
    normalize_url,
    open_store,
)

HASHES = {"a": "ha", "b": "hb", "c": "hc"}


def decide(store: ReviewStore, user: str, verdict: str, a: str = "a", b: str = "b", **kw: object):
    return store.record_decision(
        id_a=a,
        id_b=b,
        verdict=verdict,
        user=user,
        comment=str(kw.get("comment", "")),
        score=0.9,
        model_id="fake-hashing-256",
        text_hash_a=HASHES[a],
        text_hash_b=HASHES[b],
    )


def test_migrations_create_the_schema_and_reopen_is_idempotent(db_url: str) -> None:
    store = ReviewStore.open(db_url)
    names = set(inspect(store.engine).get_table_names())
    assert {"users", "api_tokens", "decisions", "web_sessions", "alembic_version"} <= names
    decide(store, "alice", "overlap")
    store.close()
    again = ReviewStore.open(db_url)  # runs the migrations again: nothing to do, nothing lost
    with again.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0002"
    assert len(again.all_decisions()) == 1
    again.close()


def test_users_passwords_roles_and_tokens(db_url: str) -> None:
    store = ReviewStore.open(db_url)
    alice, generated = store.add_user(name="alice", role="reviewer")
    assert alice.role is Role.REVIEWER and len(generated) >= 16
    bob, pw = store.add_user(name="bob", role=Role.VIEWER, password="correct horse")
    assert pw == "correct horse"
    assert store.authenticate(name="alice", password=generated) == alice
    assert store.authenticate(name="ALICE", password=generated) == alice  # case does not count
    assert store.authenticate(name="alice", password="wrong password") is None
    assert store.authenticate(name="nobody", password="whatever1") is None
    with store.engine.connect() as conn:
        stored = conn.execute(text("select password_hash from users where name='bob'")).scalar()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    with pytest.raises(ReviewStoreError, match="already exists"):
        store.add_user(name="alice", role="viewer")
    with pytest.raises(ReviewStoreError, match="'alice' already exists"):
        store.add_user(name="Alice", role="viewer")  # one person, one name, whatever the case
    emile, pw_e = store.add_user(name="Émile", role="viewer")  # beyond ASCII too
    assert store.authenticate(name="éMILE", password=pw_e) == emile
    with pytest.raises(ReviewStoreError, match="'Émile' already exists"):
        store.add_user(name="émile", role="viewer")
    with pytest.raises(UsageError, match="no spaces or /"):
        store.add_user(name="a/b", role="viewer")
    with pytest.raises(UsageError, match="not starting with -"):
        store.add_user(name="-bob", role="viewer")  # `users set-password -bob` would be an option
    with pytest.raises(UsageError, match="role 'boss'"):
        store.add_user(name="carol", role="boss")
    # Sessions: ended by signing out, by a new password, by deactivation; and by age.
    s1, s2 = store.start_session(bob.id), store.start_session(bob.id)
    assert store.session_user(s1, max_age=60) == bob
    assert store.session_user(s1, max_age=-1) is None
    store.end_session(s1)
    assert store.session_user(s1, max_age=60) is None and store.session_user(s2, 60) == bob
    new = store.set_password(name="bob", password="battery staple")
    assert new == "battery staple" and store.session_user(s2, 60) is None
    assert store.authenticate(name="bob", password="battery staple") == bob
    s3 = store.start_session(bob.id)
    store.set_active(name="bob", active=False)
    assert store.authenticate(name="bob", password="battery staple") is None
    store.set_active(name="bob", active=True)
    assert store.session_user(s3, 60) is None  # reactivation does not revive old sessions
    store.set_active(name="bob", active=False)

    token = store.add_token(user="alice", label="intake")
    assert store.user_for_token(token) == alice
    assert store.user_for_token(token + "x") is None
    with store.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("select token_hash from api_tokens"))]
    assert token not in hashes
    bob_token = store.add_token(user="bob")
    assert store.user_for_token(bob_token) is None  # inactive user: token refused
    store.close()


def test_decisions_are_append_only_with_conflicts_undo_and_text_changes(db_url: str) -> None:
    store = ReviewStore.open(db_url)
    d1 = store.record_decision(
        id_a="b",
        id_b="a",
        verdict="overlap",
        user="alice",
        comment="same vendor",
        score=0.8,
        model_id="m",
        text_hash_a="hb",
        text_hash_b="ha",
    )
    assert (d1.id_a, d1.id_b, d1.text_hash_a, d1.text_hash_b) == ("a", "b", "ha", "hb")
    assert store.decided_keys(HASHES) == {("a", "b"): "overlap by alice"}

    again = store.record_decision(  # the same act again (a retried POST): nothing appended
        id_a="a",
        id_b="b",
        verdict="overlap",
        user="alice",
        comment="same vendor ",
        score=0.8,
        model_id="m",
        text_hash_a="ha",
        text_hash_b="hb",
    )
    assert again.id == d1.id and len(store.all_decisions()) == 1

    decide(store, "bob", "not related")  # a second reviewer disagrees: both kept, a conflict
    latest = store.latest_decisions(HASHES)[("a", "b")]
    assert latest.conflict and latest.verdict is None
    assert latest.label == "conflict: overlap by alice; not related by bob"

    decide(store, "bob", "overlap")  # bob changes his mind: a new row, now they agree
    assert store.decided_keys(HASHES) == {("a", "b"): "overlap by alice, bob"}
    assert store.decisions_as_labelled_pairs(HASHES) == [("a", "b", "overlap")]

    undone = store.undo_last("bob")  # undo withdraws bob's latest: his earlier verdict stands
    assert undone is not None and undone.verdict == "overlap" and undone.user == "bob"
    assert store.latest_decisions(HASHES)[("a", "b")].conflict
    assert store.undo_last("bob") is not None
    assert store.undo_last("bob") is None  # nothing left to undo
    assert store.decided_keys(HASHES) == {("a", "b"): "overlap by alice"}

    trail = store.all_decisions()
    assert [d.verdict for d in trail] == ["overlap", "not_related", "overlap", "revoked", "revoked"]
    assert [d.revokes_id for d in trail[3:]] == [trail[2].id, trail[1].id]
    assert all(d.created_at.tzinfo is not None for d in trail)
    assert [d.id for d in store.decisions_for("a")] == [d.id for d in trail]
    assert store.decisions_for("c") == []

    # A text change re-opens the pair; a decision on the new text closes it again.
    changed = {**HASHES, "b": "hb2"}
    assert store.decided_keys(changed) == {}
    store.record_decision(
        id_a="a", id_b="b", verdict="duplicate", user="carol", text_hash_a="ha", text_hash_b="hb2"
    )
    assert store.decided_keys(changed) == {("a", "b"): "duplicate by carol"}
    assert store.decided_keys(HASHES) == {("a", "b"): "overlap by alice"}
    # A removed initiative: its pairs are no longer "decided" (nothing to flag either).
    assert store.decided_keys({"a": "ha"}) == {}
    with pytest.raises(UsageError, match="verdict 'maybe'"):
        decide(store, "alice", "maybe")
    with pytest.raises(UsageError, match="two different"):
        store.record_decision(id_a="a", id_b="a", verdict="overlap", user="alice")
    store.close()


def test_database_errors_name_the_operation(db_url: str) -> None:
    store = ReviewStore.open(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("drop table decisions"))
    with pytest.raises(ReviewStoreError, match="record decision failed"):
        decide(store, "alice", "overlap")
    with pytest.raises(ReviewStoreError, match="read decisions failed"):
        store.latest_decisions()
    store.close()


def test_concurrent_reviewers_deciding_the_same_pair_lose_nothing(db_url: str) -> None:
    store = ReviewStore.open(db_url)
    n_threads, per_thread = 8, 5
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def work(i: int) -> None:
        try:
            start.wait()
            for j in range(per_thread):
                decide(store, f"user{i}", ["duplicate", "overlap", "not_related"][(i + j) % 3])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    trail = store.all_decisions()
    assert len(trail) == n_threads * per_thread
    assert len({d.id for d in trail}) == len(trail)
    latest = store.latest_decisions(HASHES)[("a", "b")]
    assert len(latest.decisions) == n_threads and latest.conflict
    store.close()


def test_urls_default_next_to_the_index_and_postgres_driver_is_fixed(tmp_path: Path) -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert default_db_url(tmp_path / "ix").endswith("/ix/review.db")
    store = open_store(index=tmp_path / "ix")
    assert (tmp_path / "ix" / "review.db").exists()
    store.close()
    with pytest.raises(UsageError):
        open_store()
    with pytest.raises(ReviewStoreError, match="review store postgresql\\+psycopg://u:\\*\\*\\*"):
        ReviewStore.open("postgresql://u:secret@127.0.0.1:1/nope")


def test_check_shows_known_decisions(mini_index: Path, tmp_path: Path) -> None:
    det = Detector.open(mini_index, encoder=FakeEncoder())
    top = det.pairs()[0]
    rec = {r.id: r for r in det.records}[top.id_a]
    hashes = dict(zip(det.index.frame["id"], det.index.frame["text_hash"], strict=True))
    store = ReviewStore.open(f"sqlite:///{tmp_path / 'r.db'}")
    store.record_decision(
        id_a=top.id_a,
        id_b=top.id_b,
        verdict="overlap",
        user="alice",
        text_hash_a=hashes[top.id_a],
        text_hash_b=hashes[top.id_b],
    )
    result = det.check(
        Proposal(title=rec.title, description=rec.description, id=rec.id),
        decisions=store.decided_keys(hashes),
    )
    labelled = {m.id: m.decision for m in result.matches}
    assert labelled[top.id_b] == "overlap by alice"
    store.close()
