"""Short dated history (issue 12): `train` and `backtest --at` on a sample world of 6 months, against a plain
lead-level logistic baseline on the same rows.

The baseline is what a team without leadscore would do with a CRM export: one row per lead known at the
cut-off, the raw profile columns one-hot encoded (numbers imputed and scaled), label "converted by the cut-off",
scikit-learn's LogisticRegression; it then ranks the rows leadscore is judged on.

    .venv/bin/python benchmarks/bench_short_history.py [--leads 20000] [--days 183] [--seed 42] [--at 2025-03-05]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features.snapshots import open_lead_snapshots
from pipeline.config import load_config
from pipeline.inputs.data import load_training_inputs
from pipeline.stages.backtest import run_backtest
from pipeline.stages.generate import run_generate
from pipeline.stages.train import run_train

NOT_PROFILE = {"lead_id", "created_at", "email", "first_name", "last_name", "phone", "company", "status", "owner"}


def plain_baseline(leads: pd.DataFrame, outcomes: pd.DataFrame, cut: pd.Timestamp) -> object:
    """Logistic regression on one row per lead created before `cut`, label: converted before `cut`."""
    known = leads[leads["created_at"] < cut]
    conv = outcomes.set_index("lead_id").loc[known["lead_id"], "converted_at"]
    y = (conv.notna() & (conv < cut)).to_numpy().astype(int)
    cols = [c for c in known.columns if c not in NOT_PROFILE]
    num = [c for c in cols if pd.api.types.is_numeric_dtype(known[c])]
    cat = [c for c in cols if c not in num]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore", min_frequency=20), cat),
                                (make_pipeline(SimpleImputer(), StandardScaler()), num)),
        LogisticRegression(max_iter=2000))
    model.fit(known[cols].astype({c: str for c in cat}), y)
    return lambda rows: model.decision_function(rows[cols].astype({c: str for c in cat}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=183)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--at", default="2025-03-05", help="backtest date (4 months before the end of a 6-month world)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "world"
        run_generate(data, args.leads, args.seed, days=args.days)
        cfg = load_config().model_copy(deep=True)
        cfg.mlflow.tracking_uri = f"sqlite:///{tmp}/mlflow.db"
        inputs = load_training_inputs(cfg, data)
        trained = run_train(cfg, str(data), workdir=tmp)
        ex = trained.examples
        X_test, y_test = ex.rows("test")
        base = plain_baseline(inputs.leads, inputs.outcomes, X_test["as_of"].min())
        rows = inputs.leads.set_index("lead_id").loc[X_test["lead_id"]].reset_index()
        train_out = {"readiness": ex.readiness, "models": {n: round(m.metrics["test_roc_auc"], 4) for n, m in trained.models.items()},
                     "baseline": round(roc_auc_score(y_test, base(rows)), 4), "split": ex.split}
        at = pd.Timestamp(args.at)
        bt = run_backtest(cfg, at, str(data), truth=str(data / "truth.parquet"), workdir=tmp)
        open_at = open_lead_snapshots(inputs.leads, inputs.outcomes, pd.DatetimeIndex([at]), cfg.training.horizon_days,
                                      cfg.training.max_lead_age_days)
        base = plain_baseline(inputs.leads, inputs.outcomes, at)
        rows = inputs.leads.set_index("lead_id").loc[open_at["lead_id"]].reset_index()
        backtest_out = {"readiness": bt["readiness"], "models": {n: round(m["roc_auc"], 4) for n, m in bt["models"].items()},
                        "ece": {n: round(m["ece"], 4) for n, m in bt["models"].items()},
                        "baseline": round(roc_auc_score(open_at["label"], base(rows)), 4)}
    print(json.dumps({"args": vars(args), "train": train_out, "backtest": backtest_out}, indent=1, default=str))


if __name__ == "__main__":
    main()
