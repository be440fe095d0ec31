"""Review fixtures: a real PostgreSQL server per test session, store URLs, a small index."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dedupe import Detector
from dedupe.embed.fake import FakeEncoder

from .webhelpers import PASSWORD, SECRET, sign_in

MINI = Path(__file__).resolve().parents[1] / "data" / "mini_portfolio.csv"
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
PG_USER = "nobody"  # PostgreSQL refuses to run as root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_pg_user(*cmd: str) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else list(cmd)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """initdb + pg_ctl start on a free port on 127.0.0.1; yields `postgresql://postgres@host:port`."""
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        # `make test` installs them (sysdeps): their absence is a broken set-up, not a pass.
        pytest.fail("PostgreSQL server binaries missing: run `make sysdeps` (Debian postgresql)")
    root = Path(tempfile.mkdtemp(prefix="dedupe-pg-", dir="/tmp"))
    data, sock, logf = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER)
        shutil.chown(sock, PG_USER)
    os.chmod(root, 0o755)
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        _as_pg_user(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=root,
    )
    port = free_port()
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
    start = subprocess.run(
        _as_pg_user(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(logf), "-o", opts, "-w", "start"
        ),
        capture_output=True,
        env=env,
        cwd=root,
        text=True,
    )
    if start.returncode != 0:
        log = logf.read_text() if logf.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {start.stderr}\n{log}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_pg_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"),
            capture_output=True,
            env=env,
            cwd=root,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash dozens of passwords: use argon2's cheapest profile (production keeps the
    library's default RFC 9106 low-memory profile)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from dedupe.review import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher.from_parameters(CHEAPEST))


def new_pg_database(server: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    return new_pg_database(request.getfixturevalue("postgres_server"))


XSS = "<script>alert(1)</script>"
XSS_DEPT = "Department of <b>Markup</b>"


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 215-row mini portfolio + two hostile rows, fake encoder (built once, read-only).

    The two extra rows duplicate each other and carry HTML/script in their text, so the queue
    must show them (escaped).
    """
    import csv

    root = tmp_path_factory.mktemp("mini")
    hostile = root / "hostile.csv"
    desc = f"Citizen portal for fishing licence renewals and payments online. {XSS} Renew."
    with open(hostile, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(
            fh,
            fieldnames=[
                "id",
                "title",
                "description",
                "department",
                "owner_name",
                "owner_email",
                "url",
            ],
        )
        w.writeheader()
        w.writerow(
            {
                "id": "x-1",
                "title": "Fishing licence portal",
                "description": desc,
                "department": XSS_DEPT,
                "owner_name": "Eve <i>Evil</i>",
                "owner_email": "eve@example.gc.ca",
                "url": "javascript:alert(2)",
            }
        )
        w.writerow(
            {
                "id": "x-2",
                "title": "Fishing licence portal",
                "description": desc,
                "department": "Fisheries and Oceans Canada",
                "owner_name": "Fred",
                "owner_email": "fred@example.gc.ca",
                "url": "https://example.gc.ca/x2",
            }
        )
    path = root / "ix"
    Detector.ingest(path, [MINI, hostile], encoder=FakeEncoder())
    return path


@pytest.fixture(scope="session")
def mini_queue(mini_index: Path):
    """One computed review queue of `mini_index`, shared by the app tests."""
    from dedupe.review.queue import ReviewQueue

    queue = ReviewQueue(mini_index, encoder=FakeEncoder())
    queue.warm()
    return queue


# --------------------------------------------------------------------------- the app under test
@pytest.fixture
def app_index(mini_index: Path) -> Path:
    """The index the app serves (a test module may override this fixture)."""
    return mini_index


@pytest.fixture
def app_queue(mini_queue):
    return mini_queue


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def make_app(app_index: Path, app_queue, db: str):
    from dedupe.review.app import create_app
    from dedupe.review.settings import ReviewSettings

    def _make(**over: object):
        settings = ReviewSettings(
            index=app_index, db_url=db, secret_key=SECRET, encoder=FakeEncoder(), **over
        )  # type: ignore[arg-type]
        return create_app(settings, queue=app_queue)

    return _make


@pytest.fixture
def store(db: str):
    from dedupe.review.store import ReviewStore

    s = ReviewStore.open(db)
    for name, role in (
        ("alice", "reviewer"),
        ("bob", "reviewer"),
        ("vera", "viewer"),
        ("ada", "admin"),
    ):
        s.add_user(name=name, role=role, password=PASSWORD)
    yield s
    s.close()


@pytest.fixture
def client_for(make_app, store) -> Iterator[Callable[..., object]]:
    """Signed-in (or anonymous) TestClients of one app each; closed after the test."""
    from fastapi.testclient import TestClient

    clients: list[TestClient] = []

    def _client(name: str | None = None, **over: object) -> TestClient:
        client = TestClient(make_app(**over), base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        if name:
            assert sign_in(client, name).status_code == 303
        return client

    yield _client
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def live(mini_index: Path, mini_queue, tmp_path: Path) -> Iterator[tuple[str, object]]:
    """The app on a free port (uvicorn in a thread), with a fresh SQLite store."""
    import threading
    import time

    import uvicorn

    from dedupe.review.app import create_app
    from dedupe.review.settings import ReviewSettings
    from dedupe.review.store import ReviewStore

    db = f"sqlite:///{tmp_path / 'review.db'}"
    store = ReviewStore.open(db)
    store.add_user(name="alice", role="reviewer", password=PASSWORD)
    store.add_user(name="vera", role="viewer", password=PASSWORD)
    app = create_app(
        ReviewSettings(index=mini_index, db_url=db, secret_key="s" * 40, encoder=FakeEncoder()),
        queue=mini_queue,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()
