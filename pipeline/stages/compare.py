"""`leadscore compare`: the models of recent training sessions and their metrics, side by side."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from models.metrics import METRIC_NAMES
from pipeline import tracking
from pipeline.config import Config


def run_compare(cfg: Config, last: int = 5, workdir: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per model run of the `last` parent sessions (training and backtests), newest first."""
    uri = tracking.setup(cfg, workdir, demo_fallback=True)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(cfg.mlflow.experiment)
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=2000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags][:last]
    rows = []
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
                    and "model_name" in r.data.tags]
        for child in sorted(children, key=lambda r: r.info.run_name):
            metrics = child.data.metrics
            prefix = "backtest_" if parent.data.tags.get("kind") == "backtest" else "test_"
            rows.append({
                "session": parent.info.run_name, "model": child.info.run_name,
                **{m: round(metrics[prefix + m], 4) for m in METRIC_NAMES if prefix + m in metrics},
                "registered": (parent.data.tags.get("registered_version", "")
                               if child.data.tags.get("model_name") == parent.data.tags.get("best_model") else ""),
            })
    return rows
