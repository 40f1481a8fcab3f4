"""`leadscore demo`: generate a sample world, train, promote, predict, and show the hottest leads."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.inputs.data import Inputs
from pipeline.inputs.io import write_table
from pipeline.stages.generate import run_generate
from pipeline.stages.predict import run_predict
from pipeline.stages.promote import gate
from pipeline.stages.train import TrainResult, run_train

log = logging.getLogger(__name__)


def run_demo(cfg: Config, workdir: str | Path, n_leads: int, seed: int, reporter: Reporter) -> dict:
    workdir = Path(workdir).resolve()
    data = workdir / "data"
    reporter.step(f"1/4 Generating a sample world of {n_leads:,} leads in {data}")
    run_generate(data, n_leads, seed, reporter)
    cfg = cfg.model_copy(deep=True)
    cfg.data.path = str(data)
    cfg.data.mode = "events"
    reporter.step("2/4 Training the points models, logistic regression and LightGBM (tracked in MLflow)")
    result = run_train(cfg, reporter=reporter, workdir=workdir)
    reporter.step("3/4 Promotion gate")
    decision = gate(cfg, result.version, result.models[result.best].metrics, result.examples, result.inputs)
    as_of = result.inputs.data_end().ceil("D")
    open_leads = write_open_leads(result.inputs, as_of, cfg.training.max_lead_age_days, data / "open_leads.parquet")
    reporter.step(f"4/4 Scoring the {open_leads:,} leads open on {as_of.date()} (what sales would work on)")
    run_predict(cfg, str(data / "open_leads.parquet"), str(data / "events.parquet"), workdir / "scores.parquet",
                as_of=as_of, reporter=reporter, workdir=workdir)
    scores = pd.read_parquet(workdir / "scores.parquet")
    return {"result": result, "decision": decision, "scores": scores, "workdir": workdir}


def write_open_leads(inputs: Inputs, as_of: pd.Timestamp, max_age_days: int, path: Path) -> int:
    """Leads a sales team would still work at as_of: created within max_age_days, not converted yet."""
    leads = inputs.leads.merge(inputs.outcomes, on="lead_id", how="left")
    is_open = (leads["created_at"] < as_of) & (leads["created_at"] >= as_of - pd.Timedelta(days=max_age_days))
    is_open &= leads["converted_at"].isna() | (leads["converted_at"] >= as_of)
    write_table(inputs.leads[is_open.to_numpy()], path)
    return int(is_open.sum())


def hottest_table(scores: pd.DataFrame, n: int = 10) -> list[dict[str, object]]:
    # fit_score + engagement_score is the margin minus a constant: it breaks ties within a calibration bin.
    top = scores.assign(_margin=scores["fit_score"] + scores["engagement_score"]).sort_values(
        ["probability", "_margin"], ascending=False).head(n)
    rows = []
    for rec in top.itertuples():
        reasons = json.loads(rec.top_reasons)
        rows.append({"lead_id": rec.lead_id, "grade": rec.grade, "score": int(rec.score),
                     "probability": float(rec.probability),
                     "why": "; ".join(r["label"] for r in reasons if r["contribution"] > 0)[:110]})
    return rows


def model_rows(result: TrainResult) -> list[dict[str, object]]:
    return [{"model": n, **{k: round(v, 4) for k, v in m.metrics.items() if k.startswith("test_")}}
            for n, m in result.models.items()]
