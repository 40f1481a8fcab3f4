"""`leadscore retrain`: the one command for cron. A lock, a fingerprint of data + config + code
(nothing changed -> nothing retrained), train, then the promotion gate."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from pipeline import tracking
from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.errors import LeadscoreError
from pipeline.fingerprints import code_fingerprint, data_fingerprint
from pipeline.inputs.data import load_training_inputs
from pipeline.stages.promote import gate
from pipeline.stages.train import run_train


class LockedError(LeadscoreError):
    exit_code = 3


@contextlib.contextmanager
def retrain_lock(folder: Path) -> Iterator[None]:
    """An exclusive, non-blocking flock: a second retrain fails at once. The kernel drops the lock
    when the process dies, even on SIGKILL, so a killed run never leaves a stale lock behind."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".leadscore-retrain.lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise LockedError(f"{path}: another retrain is running ({holder}); not starting a second one") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def last_fingerprint(cfg: Config) -> tuple[str | None, str | None]:
    """(fingerprint, run id) of the latest finished retrain session, if any."""
    exp = MlflowClient().get_experiment_by_name(cfg.mlflow.experiment)
    if exp is None:
        return None, None
    runs = MlflowClient().search_runs([exp.experiment_id], "tags.kind = 'retrain' and attributes.status = 'FINISHED'",
                                      order_by=["attributes.start_time DESC"], max_results=1)
    if not runs:
        return None, None
    return runs[0].data.tags.get("retrain_fingerprint"), runs[0].info.run_id


def run_retrain(cfg: Config, data: str | None = None, force: bool = False, reporter: Reporter | None = None,
                workdir: str | Path | None = None) -> dict[str, Any]:
    reporter = reporter or Reporter(quiet=True)
    uri = tracking.setup(cfg, workdir)
    lock_dir = Path(uri.removeprefix("sqlite:///")).parent if uri.startswith("sqlite:///") else Path(workdir or ".")
    with retrain_lock(lock_dir):
        inputs = load_training_inputs(cfg, data)
        fingerprint = hashlib.sha256(
            f"{data_fingerprint(inputs)}:{cfg.fingerprint()}:{code_fingerprint()}".encode()).hexdigest()[:16]
        previous, previous_run = last_fingerprint(cfg)
        if previous == fingerprint and not force:
            why = f"data, config and code unchanged since run {previous_run}; use --force to retrain"
            return {"decision": "skipped", "reasons": [why], "fingerprint": fingerprint}
        result = run_train(cfg, data, None, None, reporter, workdir, inputs=inputs)
        decision = gate(cfg, result.version, result.models[result.best].metrics, result.examples, result.inputs)
        client = MlflowClient()
        client.set_tag(result.parent_run_id, "kind", "retrain")
        client.set_tag(result.parent_run_id, "retrain_fingerprint", fingerprint)
        client.set_tag(result.parent_run_id, "gate.decision", decision.decision)
        with mlflow.start_run(run_id=result.parent_run_id):
            mlflow.log_dict(decision.as_dict(), "gate/decision.json")
        return {**result.summary(), **decision.as_dict(), "fingerprint": fingerprint}


def summary_line(summary: dict[str, Any]) -> str:
    head = summary["decision"]
    if head == "skipped":
        return "skipped: " + "; ".join(summary["reasons"])
    return f"{head}: challenger v{summary['challenger_version']}; " + "; ".join(summary["reasons"])


