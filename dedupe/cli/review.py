"""`dedupe serve`, `dedupe users`, `dedupe tokens`, `dedupe decisions`: the review workflow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dedupe.cli.common import DEFAULT_INDEX, app, err, escape, handle_errors, out, print_json
from dedupe.csvsafe import safe_frame, write_csv, write_text
from dedupe.detector import require_index
from dedupe.errors import UsageError

if TYPE_CHECKING:
    from dedupe.review.store import ReviewStore

users_app = typer.Typer(
    help="Manage the review app's users.\n\nExample: dedupe users add alice --role reviewer "
    "--index indexes/gc",
    no_args_is_help=True,
)
tokens_app = typer.Typer(
    help=(
        "API tokens for machine clients of /api.\n\n"
        "Example: dedupe tokens add bot --index indexes/gc"
    ),
    no_args_is_help=True,
)
decisions_app = typer.Typer(
    help="The decision audit trail.\n\nExample: dedupe decisions export --format csv "
    "--index indexes/gc > decisions.csv",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(decisions_app, name="decisions")

INDEX_OPT = typer.Option(
    Path(DEFAULT_INDEX),
    "--index",
    "-i",
    envvar="DEDUPE_INDEX",
    help="Index directory (the review database defaults to <index>/review.db).",
)
DB_OPT = typer.Option(
    None,
    "--db",
    envvar="DEDUPE_DB_URL",
    help="Database URL: sqlite:///path.db or postgresql://user@host/db.",
)

OUTPUT_OPT = typer.Option(None, "--output", "-o", help="File (default: stdout).")


def _store(index: Path, db: str | None, *, create: bool = False) -> ReviewStore:
    """The review store; only `users add` and `serve` create one that does not exist yet."""
    from dedupe.review.store import open_store  # SQLAlchemy + Alembic: only when used

    if db:
        return open_store(db, create=create)
    return open_store(index=require_index(index), create=create)


@app.command()
@handle_errors
def serve(
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    dev: bool = typer.Option(False, "--dev", help="Allow the built-in development secret key."),
    secure_cookies: bool = typer.Option(
        False,
        "--secure-cookies",
        envvar="DEDUPE_SECURE_COOKIES",
        help="Mark the session cookie Secure (users reach the app over https, e.g. via a proxy).",
    ),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        "--forwarded-allow-ips",
        envvar="FORWARDED_ALLOW_IPS",
        help="Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated).",
    ),
) -> None:
    """Run the review web app: the queue of flagged pairs, decisions, pages and the JSON API.

    Sessions are signed with DEDUPE_SECRET_KEY (required unless --dev).

    Example:

        DEDUPE_SECRET_KEY=... dedupe serve --index indexes/gc --db postgresql://dedupe@db/dedupe
    """
    import uvicorn

    from dedupe.review.app import create_app
    from dedupe.review.settings import ReviewSettings

    settings = ReviewSettings(index=index, db_url=db, dev=dev, secure_cookies=secure_cookies)
    web = create_app(settings)
    note = "  [yellow]development secret[/]" if dev else ""
    err.print(
        f"review app on http://{host}:{port}  (index {escape(str(index))}, database "
        f"{escape(web.state.store.url)}){note}"
    )
    try:
        uvicorn.run(
            web,
            host=host,
            port=port,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level="info",
        )
    except SystemExit as exc:  # uvicorn's start-up failure is 3, which here means "flagged"
        if exc.code not in (0, None):
            err.print(
                f"[bold red]error:[/] the server could not start on {host}:{port} (see above)"
            )
            raise typer.Exit(1) from None
        raise


@users_app.command("add")
@handle_errors
def users_add(
    name: str = typer.Argument(
        ..., help="User name: letters, digits, . _ @ - (no spaces or /); case does not count."
    ),
    role: str = typer.Option("reviewer", "--role", "-r", help="viewer, reviewer or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin instead of generating one."
    ),
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Add a user; prints a generated password (shown once) unless --password-stdin.

    Example: dedupe users add alice --role reviewer --index indexes/gc
    """
    password = _stdin_password() if password_stdin else None
    store = _store(index, db, create=True)
    try:
        user, secret = store.add_user(name=name, role=role, password=password)
    finally:
        store.close()
    err.print(f"added {escape(user.name)} ({user.role.value})")
    if password is None:
        err.print("password (shown only now; change it with `dedupe users set-password`):")
        out.print(secret)


def _stdin_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("--password-stdin: no password on stdin")
    return password


@users_app.command("set-password")
@handle_errors
def users_set_password(
    name: str = typer.Argument(..., help="The user whose password changes."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the new password from stdin instead of generating one.",
    ),
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Give a user a new password (generated and printed once unless --password-stdin). The
    user's open browser sessions end.

    Example: dedupe users set-password alice --index indexes/gc
    """
    password = _stdin_password() if password_stdin else None
    store = _store(index, db)
    try:
        secret = store.set_password(name=name, password=password)
    finally:
        store.close()
    err.print(f"new password for {escape(name)}; their browser sessions are ended")
    if password is None:
        out.print(secret)


@users_app.command("list")
@handle_errors
def users_list(
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List users with their role and whether they are active.

    Example: dedupe users list --index indexes/gc
    """
    store = _store(index, db)
    try:
        users = store.users()
    finally:
        store.close()
    if json_out:
        print_json([{"name": u.name, "role": u.role.value, "active": u.active} for u in users])
        return
    for u in users:
        out.print(f"{escape(u.name)}\t{u.role.value}\t{'active' if u.active else 'inactive'}")


@users_app.command("deactivate")
@handle_errors
def users_deactivate(
    name: str = typer.Argument(..., help="The user who may no longer sign in."),
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Stop a user from signing in (their decisions are kept).

    Example: dedupe users deactivate alice --index indexes/gc
    """
    _set_active(name, index, db, active=False)
    err.print(f"{escape(name)} deactivated; their browser sessions are ended")


@users_app.command("activate")
@handle_errors
def users_activate(
    name: str = typer.Argument(..., help="The user who may sign in again."),
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Let a deactivated user sign in again.

    Example: dedupe users activate alice --index indexes/gc
    """
    _set_active(name, index, db, active=True)
    err.print(f"{escape(name)} activated")


def _set_active(name: str, index: Path, db: str | None, *, active: bool) -> None:
    store = _store(index, db)
    try:
        store.set_active(name=name, active=active)
    finally:
        store.close()


@tokens_app.command("add")
@handle_errors
def tokens_add(
    name: str = typer.Argument(..., help="The user the token acts as."),
    label: str = typer.Option("", "--label", help="What the token is for."),
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Create an API token (printed once; only its hash is stored).

    Example (create once, keep it in the intake system's secrets):

        TOKEN=$(dedupe tokens add intake-bot --label intake --index indexes/gc)

        curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/pairs
    """
    store = _store(index, db)
    try:
        token = store.add_token(user=name, label=label)
    finally:
        store.close()
    out.print(token)


@decisions_app.command("export")
@handle_errors
def decisions_export(
    format: str = typer.Option("csv", "--format", help="csv or json."),
    output: Path | None = OUTPUT_OPT,
    index: Path = INDEX_OPT,
    db: str | None = DB_OPT,
) -> None:
    """Export the audit trail: every decision and undo with who, when, score and model.

    CSV cells that a spreadsheet would run as formulas are neutralised.

    Example: dedupe decisions export --format csv --index indexes/gc > decisions.csv
    """
    from dedupe.review.known import decisions_frame

    if format not in ("csv", "json"):
        raise UsageError(f"--format {format!r}: expected csv or json")
    store = _store(index, db)
    try:
        frame = decisions_frame(store)
    finally:
        store.close()
    if format == "csv":
        if output is not None:
            write_csv(frame, output)
        else:
            safe_frame(frame).to_csv(sys.stdout, index=False)
        return
    text = frame.to_json(orient="records", force_ascii=False, indent=2) or "[]"
    if output is not None:
        write_text(text + "\n", output)
    else:
        sys.stdout.write(text + "\n")
