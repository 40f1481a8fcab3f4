"""What the user sees while a command runs: progress bars on a terminal, quiet in logs."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

# The loggers the CLI prints: one per package (modules log on getLogger(__name__)), and "leadscore" for
# callers' own lines (tests, scripts) that log under the product's name.
PACKAGE_LOGGERS = ("leadscore", "pipeline", "models", "features")


class Reporter:
    """Steps and progress bars go to stderr; bars only on a terminal and never with --quiet."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.interactive = (not quiet) and sys.stderr.isatty()

    def step(self, message: str) -> None:
        if not self.quiet:
            log.info(message)

    @contextlib.contextmanager
    def progress(self, description: str, total: int) -> Iterator[Callable[[int, int], None]]:
        """Yield `update(done, total)`; a rich progress bar on a terminal, nothing otherwise."""
        if not self.interactive:
            yield lambda done, total: None
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda done, total: bar.update(task, completed=done, total=total)


def quiet_libraries(debug: bool = False) -> None:
    """MLflow and friends log warnings and progress bars meant for notebooks; keep them out of the CLI."""
    import os
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if debug:
        return
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for noisy in ("mlflow", "alembic", "urllib3", "git", "shap", "numba", "lightgbm"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def configure_logging(quiet: bool, debug: bool) -> None:
    """Messages of every package logger to stderr, bare (no level or logger name): the CLI's voice."""
    level = logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in PACKAGE_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    quiet_libraries(debug)
