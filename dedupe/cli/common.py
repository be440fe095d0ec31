"""Shared pieces of the CLI: the app, error handling, console output and progress bars."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dedupe.errors import DedupeError

app = typer.Typer(
    name="dedupe",
    help=(
        "Find initiatives that duplicate or overlap across departments, and the owners to call.\n\n"
        "Typical use:\n\n"
        "  dedupe ingest data/sample/initiatives_sample.csv --mapping data/sample/mapping.toml "
        "--index indexes/sample\n\n"
        "  dedupe check --index indexes/sample --title 'Learning management system' "
        "--department 'Transport Canada'\n\n"
        "Exit codes: 0 ok / nothing flagged, 1 bad input or data error, 2 usage error, "
        "3 check flagged a duplicate or overlap, 4 report written but a source failed."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class _Console(Console):
    """rich's Console, minus its exit(1) when stdout's reader has gone (`dedupe check | head`):
    output stops, and the command keeps its own exit code (3 = flagged)."""

    def on_broken_pipe(self) -> None:  # rich's documented hook for this
        self.quiet = True
        _stdout_to_devnull()


err = _Console(stderr=True, highlight=False, soft_wrap=True)
out = _Console(highlight=False, soft_wrap=True)

DEFAULT_INDEX = os.environ.get("DEDUPE_INDEX", "indexes/default")

P = ParamSpec("P")
R = TypeVar("R")


@app.callback()
def _root(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv: debug)."
    ),
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _stdout_to_devnull() -> None:
    """Python's advice for a closed pipe: point stdout at devnull so later writes and the
    interpreter's final flush are quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn `DedupeError` into a one-line message on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DedupeError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def print_json(data: Any) -> None:
    """One JSON document on stdout. A reader that has gone (`| head`) is not an error: output
    stops and the command keeps its own exit code, as for `out` (`_Console.on_broken_pipe`)."""
    try:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()


@contextmanager
def progress_bar(
    description: str, enabled: bool = True
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """Yield (advance, set_total) callbacks driving a rich progress bar on stderr."""
    if not enabled or not err.is_terminal:
        yield (lambda n: None), (lambda n: None)
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def advance(n: int) -> None:
            bar.advance(task, n)

        def set_total(n: int) -> None:
            bar.update(task, total=n)

        yield advance, set_total
