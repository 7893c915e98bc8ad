"""The edge of every `obshub` verb group: where a project error becomes words and an exit code.

Every verb group (`hub.cli`, `contracts.cli`, `schemas.cli`, `connectors.cli`)
lets the library raise and calls `fail` here, and nowhere else:

- a project error (an `ObshubError`) becomes `obshub: error: <message>` on
  stderr and exit code 1; a message of several lines (a `DocumentError`
  lists one problem a line) gives one such line each;
- anything else is a bug and propagates with its traceback.

Messages for people go to stderr, data (tokens, reports, listings) to stdout.
`configure_logging` is the logging of every entry point, the Kafka clients'
included. The module lives in `schemas`, the package all four import, and
imports nothing heavier than typer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer

from schemas.errors import ObshubError
from schemas.settings import ObshubSettings

T = TypeVar("T")

ERROR_PREFIX = "obshub: error: "
ERROR_EXIT_CODE = 1
# The Kafka clients log every retry; obshub reports failures itself in one
# line, so their own logs show only at OBSHUB_LOG_LEVEL=DEBUG.
CLIENT_LOGGERS = ("kafka", "aiokafka")

log = logging.getLogger(__name__)


def error_lines(error: ObshubError | str) -> list[str]:
    """The `obshub: error: …` line(s) saying `error`; its reason code if it has no message."""
    text = str(error).strip()
    if not text and isinstance(error, ObshubError):
        text = error.reason
    return [ERROR_PREFIX + line for line in text.splitlines() or [""]]


def fail(error: ObshubError | str) -> NoReturn:
    """End the command: `error` on stderr (`error_lines`), exit code 1.

    Takes a project error, or the words of a failure that is no exception
    (a drop the hub rejected, no valid row)."""
    if isinstance(error, ObshubError):
        log.debug("command failed reason=%s", error.reason, exc_info=error)
    for line in error_lines(error):
        typer.echo(line, err=True)
    raise typer.Exit(ERROR_EXIT_CODE)


def run_or_exit(action: Callable[[], T]) -> T:
    """`action()`; a project error it raises ends the command through `fail`."""
    try:
        return action()
    except ObshubError as exc:
        fail(exc)


def configure_logging(level: str | None = None) -> None:
    """Logging of an entry point: key=value lines on stderr at `level`
    (default `$OBSHUB_LOG_LEVEL`, else WARNING).

    The Kafka clients' loggers are set here whatever the root logger already
    was: silent unless `level` is DEBUG. Idempotent: each verb group that
    talks to Kafka calls it again, so it holds however the verb is reached."""
    name = (level or ObshubSettings().log_level).upper()
    logging.basicConfig(
        level=name,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )
    wanted = logging.getLevelNamesMapping().get(name, logging.WARNING)
    client_level = logging.DEBUG if wanted <= logging.DEBUG else logging.CRITICAL
    for client in CLIENT_LOGGERS:
        logging.getLogger(client).setLevel(client_level)
