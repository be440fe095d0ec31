"""`dedupe users|tokens|decisions` and `dedupe check` showing known decisions."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedupe import Detector
from dedupe.cli import app
from dedupe.embed.fake import FakeEncoder
from dedupe.review.known import current_hashes, known_decisions, labelled_pairs
from dedupe.review.store import ReviewStore, open_store


@pytest.fixture
def index(mini_index: Path, tmp_path: Path) -> Path:
    """A private copy of the mini index (these tests create review.db next to it)."""
    path = tmp_path / "ix"
    shutil.copytree(mini_index, path)
    return path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def test_users_tokens_and_export(index: Path) -> None:
    r = run("users", "add", "alice", "--role", "reviewer", "--index", str(index))
    assert r.exit_code == 0, r.output
    password = r.stdout.strip().splitlines()[-1]
    r = run(
        "users",
        "add",
        "bot",
        "--role",
        "reviewer",
        "--password-stdin",
        "--index",
        str(index),
        input="s3cret-for-bot\n",
    )
    assert r.exit_code == 0, r.output
    store = open_store(index=index)
    assert store.authenticate(name="alice", password=password) is not None
    assert store.authenticate(name="bot", password="s3cret-for-bot") is not None
    again = run("users", "add", "alice", "--index", str(index))
    assert again.exit_code == 1 and "set-password alice" in again.stderr  # data, not usage
    r = run("users", "set-password", "alice", "--index", str(index))
    assert r.exit_code == 0 and "sessions are ended" in r.stderr
    new_password = r.stdout.strip()
    assert store.authenticate(name="alice", password=password) is None
    assert store.authenticate(name="alice", password=new_password) is not None
    assert run("users", "deactivate", "alice", "--index", str(index)).exit_code == 0
    assert store.authenticate(name="alice", password=new_password) is None
    assert run("users", "activate", "alice", "--index", str(index)).exit_code == 0
    assert store.authenticate(name="alice", password=new_password) is not None
    assert run("users", "add", "carl", "--role", "boss", "--index", str(index)).exit_code == 2
    token = run("tokens", "add", "bot", "--index", str(index)).stdout.strip()
    assert store.user_for_token(token) is not None
    users = json.loads(run("users", "list", "--json", "--index", str(index)).stdout)
    assert [u["name"] for u in users] == ["alice", "bot"]

    store.record_decision(
        id_a="x-1",
        id_b="x-2",
        verdict="duplicate",
        user="alice",
        comment='=HYPERLINK("http://evil")',
    )
    store.undo_last("alice")
    store.close()
    r = run("decisions", "export", "--format", "csv", "--index", str(index))
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["verdict"] for row in rows] == ["duplicate", "revoked"]
    assert rows[0]["comment"].startswith("'=")  # formula neutralised
    out = index / "d.csv"
    assert run("decisions", "export", "-o", str(out), "--index", str(index)).exit_code == 0
    assert out.read_text().count("\n") == 3
    data = json.loads(run("decisions", "export", "--format", "json", "--index", str(index)).stdout)
    assert data[1]["revokes_id"] == data[0]["id"] and isinstance(data[1]["revokes_id"], int)
    assert rows[0]["revokes_id"] == "" and rows[1]["revokes_id"] == str(data[0]["id"])  # not 1.0
    assert run("decisions", "export", "--format", "xml", "--index", str(index)).exit_code == 2


def test_commands_need_an_index_or_a_database(tmp_path: Path) -> None:
    r = run("users", "list", "--index", str(tmp_path / "none"))
    assert r.exit_code == 1 and "no index here" in " ".join(r.output.split())
    assert not (tmp_path / "none").exists()


def test_check_shows_decisions_from_the_review_db(index: Path, tmp_path: Path) -> None:
    proposal = tmp_path / "p.json"
    proposal.write_text(
        json.dumps(
            {
                "title": "Fishing licence portal",
                "description": "Citizen portal for fishing licence renewals and payments online.",
                "id": "x-1",
            }
        )
    )
    r = run("check", "--index", str(index), "--file", str(proposal), "--json")
    assert r.exit_code == 3 and not (index / "review.db").exists()  # no db: none created
    assert all(m["decision"] == "" for m in json.loads(r.stdout)["matches"])

    det = Detector.open(index, encoder=FakeEncoder())
    hashes = current_hashes(det)
    store = open_store(index=index)
    store.record_decision(
        id_a="x-1",
        id_b="x-2",
        verdict="overlap",
        user="alice",
        text_hash_a=hashes["x-1"],
        text_hash_b=hashes["x-2"],
    )
    store.close()
    r = run("check", "--index", str(index), "--file", str(proposal), "--json")
    by_id = {m["id"]: m["decision"] for m in json.loads(r.stdout)["matches"]}
    assert by_id["x-2"] == "overlap by alice"
    r = run("check", "--index", str(index), "--file", str(proposal))
    assert "decided:" in r.stdout and "alice" in r.stdout  # (rich wraps the table cells)
    assert known_decisions(det) == {("x-1", "x-2"): "overlap by alice"}
    assert labelled_pairs(det) == [("x-1", "x-2", "overlap")]

    other = f"sqlite:///{tmp_path / 'other.db'}"  # --db points elsewhere: nothing decided there
    ReviewStore.open(other).close()
    r = run("check", "--index", str(index), "--file", str(proposal), "--json", "--db", other)
    assert all(m["decision"] == "" for m in json.loads(r.stdout)["matches"])


def test_calibrate_from_the_review_db_uses_decisions_on_current_texts(index: Path) -> None:
    det = Detector.open(index, encoder=FakeEncoder())
    hashes = current_hashes(det)
    ids = list(hashes)
    db = f"sqlite:///{index / 'review.db'}"
    store = open_store(db)
    try:
        for i in range(0, 24, 2):  # 12 decisions on the texts as they are now
            verdict = "duplicate" if i % 4 == 0 else "not_related"
            store.record_decision(
                id_a=ids[i],
                id_b=ids[i + 1],
                verdict=verdict,
                user="alice",
                text_hash_a=hashes[ids[i]],
                text_hash_b=hashes[ids[i + 1]],
            )
        # ... and one on a text that has changed since: it must not count
        store.record_decision(
            id_a=ids[30],
            id_b=ids[31],
            verdict="duplicate",
            user="alice",
            text_hash_a="0" * 64,
            text_hash_b=hashes[ids[31]],
        )
    finally:
        store.close()
    r = run("calibrate", "--index", str(index), "--db", db, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["n_positive"], out["n_negative"]) == (6, 6)
    assert out["mode"] == "platt" and out["version"] != out["previous_version"]
