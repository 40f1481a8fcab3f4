"""The `leadscore` command line (SPEC 3). Every command: --config, --quiet, --json, --debug."""
from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.config import DEFAULT_CONFIG, Config, load_config
from pipeline.console import Reporter, configure_logging
from pipeline.errors import InputError, LeadscoreError, first_line

log = logging.getLogger(__name__)
# Plain click help (rich_markup_mode=None): flags read `--quiet  No progress output`, not `--quiet <bool>`.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Predictive lead scoring: sample world, point-in-time features, MLflow-tracked models, batch scores.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"leadscore {version('leadscore')}")
        except PackageNotFoundError:  # run from a checkout without installing
            typer.echo("leadscore (not installed)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """Predictive lead scoring: sample world, point-in-time features, MLflow-tracked models, batch scores."""

ConfigOpt = Annotated[Path, typer.Option("--config", help="YAML config file.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress output (for logs and cron).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON summary line on stdout.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show full tracebacks.")]


class Engine(str, Enum):
    pandas = "pandas"
    spark = "spark"


class OutputFormat(str, Enum):
    scores = "scores"
    crm = "crm"


DataOpt = Annotated[str | None, typer.Option(
    "--data", help="Folder with leads/events/outcomes (or one leads file in static mode).")]
LeadsOpt = Annotated[str, typer.Option("--leads", help="Leads file (CSV or Parquet).")]
EventsOpt = Annotated[str | None, typer.Option("--events", help="Events file.")]


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Set up logging, turn user errors into one line + exit 2 and other failures into one line + exit 1.

    SIGTERM and Ctrl-C unwind the stack (temporary files are removed) and exit 128 + the signal number
    with one line; --debug shows every traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import signal

        from pipeline.errors import Interrupted

        debug = kwargs.get("debug", False)
        configure_logging(kwargs.get("quiet", False) or kwargs.get("as_json", False), debug)

        def _interrupt(signum: int, frame: Any) -> None:
            raise Interrupted(signum)

        try:
            previous = signal.signal(signal.SIGTERM, _interrupt)
        except ValueError:  # not the main thread (embedded use): leave signals alone
            previous = None
        try:
            return func(*args, **kwargs)
        except LeadscoreError as exc:
            if debug:
                raise
            typer.echo(f"leadscore: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort):
            raise
        except (Interrupted, KeyboardInterrupt) as exc:
            if debug:
                raise
            signum = getattr(exc, "signum", signal.SIGINT)
            typer.echo(f"leadscore: interrupted ({signal.Signals(signum).name}); no output was replaced", err=True)
            raise typer.Exit(128 + signum) from None
        except Exception as exc:  # noqa: BLE001 - one line unless --debug
            if debug:
                raise
            text = first_line(str(exc), 300)
            typer.echo(f"leadscore: failed: {type(exc).__name__}: {text} (run with --debug for details)", err=True)
            raise typer.Exit(1) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _config(path: Path) -> Config:
    from pipeline.errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file")
    try:
        return load_config(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or type(exc).__name__})") from None


def _timestamp(value: str | None, option: str) -> Any:
    import pandas as pd

    if value is None:
        return None
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError):
        ts = None
    if ts is None or pd.isna(ts):
        raise InputError(f"{option} {value!r}: not a date; use YYYY-MM-DD or an ISO timestamp") from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def _emit(as_json: bool, summary: dict[str, Any]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, default=str) + "\n")


@app.command()
@command
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    leads: Annotated[int, typer.Option("--leads", min=100, help="Number of leads.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    days: Annotated[int, typer.Option("--days", min=30, help="Days of history (546 = 18 months; 183 = a short, "
                                      "6-month CRM export).")] = 546,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Generate the sample world: leads, events, outcomes and truth (Parquet)."""
    from pipeline.stages.generate import run_generate

    _config(config)
    rows = run_generate(out, leads, seed, Reporter(quiet or as_json), days=days)
    _emit(as_json, {"out": str(out), "rows": rows})


@app.command()
@command
def features(
    leads: LeadsOpt,
    as_of: Annotated[str, typer.Option("--as-of", help="Features use only what was known before this date.")],
    output: Annotated[Path, typer.Option("--output", help="Output file (.parquet or .csv).")],
    events: EventsOpt = None,
    model_uri: Annotated[str | None, typer.Option(
        "--model-uri", help="Build the table with this model's own fitted builder (e.g. models:/lead-scorer@champion): "
                            "the exact input of `mlflow models serve`. Default: a builder fitted on these leads.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Write the lead-level feature table as of a date."""
    from pipeline.stages.featurize import run_features

    cfg = _config(config)
    n = run_features(cfg, leads, events, _timestamp(as_of, "--as-of"), output, model_uri)
    log.info("Wrote features of %d leads to %s", n, output)
    _emit(as_json, {"output": str(output), "rows": n})


@app.command()
@command
def train(
    until: Annotated[str | None, typer.Option("--until", help="Train with data known at this date (default: now).")] = None,
    cv: Annotated[int | None, typer.Option("--cv", min=2, help="Add K-fold cross-validated metrics (cv_*).")] = None,
    data: DataOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Train every configured model, evaluate, log to MLflow, register the best as challenger."""
    from pipeline.stages.train import run_train

    cfg = _config(config)
    result = run_train(cfg, data, _timestamp(until, "--until"), cv, Reporter(quiet or as_json))
    _print_models(result, quiet or as_json)
    _emit(as_json, result.summary())


@app.command()
@command
def retrain(
    data: DataOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Retrain even if data, config and code are unchanged.")] = False,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Scheduled job: train, then the promotion gate (champion moves only to a better model).
    Exit 0 when it promotes, keeps the champion or skips; 3 if another retrain holds the lock."""
    from pipeline.stages.retrain import run_retrain, summary_line

    summary = run_retrain(_config(config), data, force, Reporter(quiet or as_json))
    if not as_json:
        typer.echo(summary_line(summary))
    _emit(as_json, summary)


@app.command()
@command
def promote(
    version: Annotated[str, typer.Option("--version", help="Registered version to make champion.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded on the version).")] = "manual promotion",
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Make a registered version champion by hand (recorded like the gate's decisions)."""
    from pipeline.stages.promote import manual_promote

    record = manual_promote(_config(config), version, reason)
    if not as_json:
        typer.echo(f"champion: v{record['champion_version']} (was v{record['previous_champion'] or '-'})")
    _emit(as_json, record)


@app.command()
@command
def rollback(
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded on the version).")] = "manual rollback",
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Move champion back to the version that held it before."""
    from pipeline.stages.promote import rollback as do_rollback

    record = do_rollback(_config(config), reason)
    if not as_json:
        typer.echo(f"champion: v{record['champion_version']} (was v{record['previous_champion']})")
    _emit(as_json, record)


@app.command()
@command
def predict(
    leads: LeadsOpt,
    output: Annotated[Path, typer.Option("--output", help="Scores file (.parquet or .csv), written atomically.")],
    events: EventsOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (default: now).")] = None,
    model_uri: Annotated[str | None, typer.Option("--model-uri", help="Default: models:/lead-scorer@champion.")] = None,
    previous: Annotated[str | None, typer.Option(
        "--previous", help="The previous scores file: leads that newly crossed the hot / MQL threshold go to "
                           "OUTPUT's folder as <name>.alerts.<ext>.")] = None,
    engine: Annotated[Engine, typer.Option(
        "--engine", help="pandas: streamed on this machine; spark: PySpark "
                         "(the `spark` extra), for event logs too big for one.")] = Engine.pandas,
    outcomes: Annotated[str | None, typer.Option(
        "--outcomes", help="Outcomes file (lead_id, converted_at): leads that converted before --as-of are not "
                           "scored or alerted. Default: the config's scoring.outcomes.")] = None,
    history: Annotated[str | None, typer.Option(
        "--history", help="Score history folder: adds score_change, trend and why_changed, then appends this batch "
                          "(partition scored_date=YYYY-MM-DD). Default: the config's scoring.history.")] = None,
    output_format: Annotated[OutputFormat | None, typer.Option(
        "--format", help="crm: also <name>.crm.csv, flat columns for a CRM import (mapping: the config's output.crm). "
                         "Default: the config's output.format.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Score leads: probability, 0-100 score, grade, fit / engagement scores and top reasons."""
    if engine is Engine.spark:
        from pipeline.spark.engine import run_predict_spark as run_predict
    else:
        from pipeline.stages.predict import run_predict

    from pipeline.scoring.extras import build_steps

    cfg = _config(config)
    summary = run_predict(cfg, leads, events, output, _timestamp(as_of, "--as-of"), model_uri, Reporter(quiet or as_json),
                          previous=previous, outcomes=outcomes,
                          steps=build_steps(cfg, history, output_format.value if output_format else None))
    _emit(as_json, summary)


@app.command()
@command
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Where data, mlflow.db and scores go.")] = Path("demo"),
    leads: Annotated[int, typer.Option("--leads", min=500)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Generate, train, promote and predict on the sample world; print the hottest leads."""
    import time

    from pipeline.stages.demo import hottest_table, run_demo

    cfg = _config(config)
    start = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    out = run_demo(cfg, workdir, leads, seed, Reporter(quiet or as_json))
    elapsed = time.perf_counter() - start
    db = out["workdir"] / "mlflow.db"
    if as_json:
        _emit(True, {**out["result"].summary(), "decision": out["decision"].as_dict(), "seconds": round(elapsed, 1),
                     "scores": str(out["workdir"] / "scores.parquet")})
        return
    _print_models(out["result"], False)
    _print_table("Hottest leads", hottest_table(out["scores"]))
    typer.echo(f"\nGate: {out['decision'].decision} ({'; '.join(out['decision'].reasons)})")
    typer.echo(f"Scores: {out['workdir'] / 'scores.parquet'}   ({elapsed:.0f} s)")
    typer.echo(f"Open the MLflow UI:  .venv/bin/mlflow ui --backend-store-uri sqlite:///{db}  (then http://127.0.0.1:5000)")


@app.command()
@command
def backtest(
    at: Annotated[str, typer.Option("--at", help="Train with data known at T; evaluate the leads open at T.")],
    truth: Annotated[str | None, typer.Option("--truth", help="The sample world's truth file: adds the oracle.")] = None,
    data: DataOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Backtest every model (and the oracle) at a past date on what happened next."""
    from pipeline.stages.backtest import run_backtest

    cfg = _config(config)
    result = run_backtest(cfg, _timestamp(at, "--at"), data, truth, Reporter(quiet or as_json))
    if not (quiet or as_json):
        _print_table(f"Backtest at {result['at']}: {result['open_leads']:,} open leads",
                     [{"model": n, **{k: round(v, 4) for k, v in m.items()}} for n, m in result["models"].items()])
    _emit(as_json, result)


@app.command()
@command
def compare(
    last: Annotated[int, typer.Option("--last", min=1, help="How many recent sessions.")] = 5,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """A table of the models of recent runs and their metrics."""
    from pipeline.stages.compare import run_compare

    rows = run_compare(_config(config), last)
    if not as_json:
        if rows:
            _print_table("Recent models (test metrics; backtests: backtest metrics)", rows)
        else:
            typer.echo("No runs yet.")
    _emit(as_json, {"runs": rows})


points_app = typer.Typer(help="Points tables (rule-based scoring).", no_args_is_help=True)
app.add_typer(points_app, name="points")


@points_app.command("suggest")
@command
def points_suggest(
    output: Annotated[Path, typer.Option("--output", help="Rules YAML to write.")],
    data: DataOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG, quiet: QuietOpt = False, as_json: JsonOpt = False, debug: DebugOpt = False,
) -> None:
    """Derive a points table from historical close rates."""
    from pipeline.stages.suggest import run_suggest

    summary = run_suggest(_config(config), output, data)
    log.info("Wrote %d rules to %s", summary["rules"], output)
    _emit(as_json, summary)


def _print_models(result: Any, quiet: bool) -> None:
    if quiet:
        return
    from pipeline.stages.demo import model_rows

    _print_table("Models on the test period", model_rows(result))
    from pipeline.segments import printed_rows

    _print_table("Segments: own model vs global model on the same test rows", printed_rows(result.extra.get("segments", [])))


def _print_table(title: str, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        return
    table = Table(title=title)
    for key in rows[0]:
        table.add_column(key.removeprefix("test_"))
    for row in rows:
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else "" if v is None else str(v) for v in row.values()])
    Console(width=160).print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
