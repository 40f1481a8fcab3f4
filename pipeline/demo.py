"""`leadscore demo`: generate a sample world, train, promote, predict, and show the hottest leads."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.generate import run_generate
from pipeline.predict import run_predict
from pipeline.promote import gate
from pipeline.train import TrainResult, run_train

log = logging.getLogger("leadscore")


def run_demo(cfg: Config, workdir: str | Path, n_leads: int, seed: int, reporter: Reporter) -> dict:
    workdir = Path(workdir).resolve()
    data = workdir / "data"
    reporter.step(f"1/4 Generating a sample world of {n_leads:,} leads in {data}")
    run_generate(data, n_leads, seed, reporter)
    cfg = cfg.model_copy(deep=True)
    cfg.data.path = str(data)
    cfg.data.mode = "events"
    reporter.step("2/4 Training logistic regression and LightGBM (tracked in MLflow)")
    result = run_train(cfg, reporter=reporter, workdir=workdir)
    reporter.step("3/4 Promotion gate")
    decision = gate(cfg, result.version, result.models[result.best].metrics, result.examples, result.inputs)
    as_of = result.inputs.data_end().ceil("D")
    reporter.step(f"4/4 Scoring all leads as of {as_of.date()}")
    scores = run_predict(cfg, str(data / "leads.parquet"), str(data / "events.parquet"), workdir / "scores.parquet",
                         as_of=as_of, reporter=reporter, workdir=workdir)
    return {"result": result, "decision": decision, "scores": scores, "workdir": workdir}


def hottest_table(scores: pd.DataFrame, n: int = 10) -> list[dict[str, object]]:
    top = scores.sort_values("probability", ascending=False).head(n)
    rows = []
    for rec in top.itertuples():
        reasons = json.loads(rec.top_reasons)
        rows.append({"lead_id": rec.lead_id, "grade": rec.grade, "score": int(rec.score),
                     "probability": float(rec.probability),
                     "why": "; ".join(r["label"] for r in reasons if r["contribution"] > 0)[:110]})
    return rows


def model_rows(result: TrainResult) -> list[dict[str, object]]:
    return [{"model": n, **{k: round(v, 4) for k, v in m.metrics.items() if k.startswith("test_")}} for n, m in result.models.items()]
