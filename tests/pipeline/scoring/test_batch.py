"""The batch-scoring core both engines run (pipeline/scoring/batch.py), in-process with a real small
LeadScorer: the checks before any work, the steps in order with their columns, the alerts as the first
step, the summary and the batch run, and nothing left behind by a failed batch."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from models.alerts import ALERT_COLUMNS, crossings
from models.scorer import OUTPUT_COLUMNS, LeadScorer
from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.inputs.io import leftover_temp_files
from pipeline.scoring import batch as batch_module
from pipeline.scoring.alerts import AlertsStep
from pipeline.scoring.batch import ScoredBatch, batch_steps, plan_batch
from pipeline.scoring.steps import Batch
from tests.conftest import REPO
from tests.pipeline.scoring.test_drift import batch as feature_table
from tests.pipeline.scoring.test_drift import scorer  # noqa: F401 - the module fixture

AS_OF = pd.Timestamp("2026-03-02")


class Pyfunc:
    """What `mlflow.pyfunc.load_model` returns, for a scorer in memory."""

    def __init__(self, lead_scorer: LeadScorer):
        self.scorer = lead_scorer

    def unwrap_python_model(self) -> SimpleNamespace:
        return SimpleNamespace(scorer=self.scorer)

    def predict(self, table: pd.DataFrame, params: dict) -> pd.DataFrame:
        return self.scorer.score(table, explain=False, model_version=params["model_version"])


class Recorder:
    """A step adding one column (`score` times FACTOR, or the previous step's column plus one)."""

    def __init__(self, name: str, calls: list, after: str | None = None, fail_on_part: int | None = None):
        self.columns, self.name, self.calls, self.after, self.fail_on_part = [name], name, calls, after, fail_on_part
        self.parts = 0

    def start(self, batch: Batch) -> None:
        self.calls.append((self.name, "start", batch.output.name, batch.model_version))

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        self.parts += 1
        if self.parts == self.fail_on_part:
            raise RuntimeError("step failed")
        self.calls.append((self.name, "part", list(scores.columns)[len(OUTPUT_COLUMNS):], len(leads)))
        value = scores[self.after] + 1 if self.after else scores["score"] * 2
        return scores.assign(**{self.name: value})

    def finish(self, batch: Batch) -> dict:
        self.calls.append((self.name, "finish"))
        return {f"{self.name}_parts": self.parts}


@pytest.fixture
def cfg():
    return load_config(REPO / "configs" / "default.yaml")


@pytest.fixture
def runs(monkeypatch) -> list[dict]:
    """The batch runs the core would log in MLflow."""
    logged: list[dict] = []
    monkeypatch.setattr(batch_module, "log_batch", lambda *args, tags=None: logged.append({"summary": args[5],
                                                                                           "tags": tags}))
    return logged


def run(core: ScoredBatch, tables: list[pd.DataFrame], previous: list[pd.DataFrame | None] | None = None) -> None:
    with core:
        for i, table in enumerate(tables):
            core.part(core.predict(table), table[["lead_id"]], table, previous[i] if previous else None)


def test_the_plan_checks_output_and_model_before_any_work(cfg, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported output type"):
        plan_batch(cfg, tmp_path / "scores.xlsx")
    with pytest.raises(InputError, match="not allowed"):
        plan_batch(cfg, tmp_path / "scores.parquet", model_uri="https://example.com/model")
    plan = plan_batch(cfg, tmp_path / "scores.parquet", previous="yesterday.parquet")
    assert plan.model_uri == f"models:/{cfg.mlflow.registered_model}@champion"
    assert plan.alerts_output == tmp_path / "scores.alerts.parquet"
    assert plan.as_of <= pd.Timestamp.now(tz="UTC").tz_localize(None) and plan.outcomes is None
    assert plan_batch(cfg, tmp_path / "s.csv", as_of=AS_OF).alerts_output is None


def test_parts_go_through_the_steps_in_order_and_into_output(cfg, scorer, runs, tmp_path: Path) -> None:  # noqa: F811
    calls: list = []
    steps = [Recorder("doubled", calls), Recorder("plus_one", calls, after="doubled")]
    plan = plan_batch(cfg, tmp_path / "scores.parquet", as_of=AS_OF, model_uri="runs:/abc/model")
    core = ScoredBatch(plan, {"leads": "leads.parquet"}, "sqlite:///x.db", Pyfunc(scorer), "7", steps)
    tables = [feature_table(300, 5), feature_table(200, 6)]
    run(core, tables)
    summary = core.finish(skipped_converted=2, older_than_max_age=1, chunks=2)

    assert calls[:2] == [("doubled", "start", "scores.parquet", "7"), ("plus_one", "start", "scores.parquet", "7")]
    assert calls[2:4] == [("doubled", "part", [], 300), ("plus_one", "part", ["doubled"], 300)]
    assert calls[-2:] == [("doubled", "finish"), ("plus_one", "finish")]
    written = pd.read_parquet(plan.output)
    assert list(written.columns) == [*OUTPUT_COLUMNS, "doubled", "plus_one"] == core.columns
    assert len(written) == summary["rows"] == 500 and (written["plus_one"] == written["score"] * 2 + 1).all()
    assert (written["model_version"] == "7").all()
    assert summary["grades"] == {g: int((written["grade"] == g).sum()) for g in "ABCD"}
    assert summary["mean_probability"] == round(written["probability"].mean(), 6)
    assert summary["doubled_parts"] == summary["plus_one_parts"] == 2
    assert (summary["chunks"], summary["skipped_converted"], summary["older_than_max_age"]) == (2, 2, 1)
    assert "alerts" not in summary and "engine" not in summary
    assert Path(summary["drift_report"]).is_file()  # the scorer has a drift reference: counted per part
    assert runs == [{"summary": summary, "tags": None}]


def test_alerts_are_the_first_step_and_see_each_parts_previous_scores(cfg, scorer, runs, tmp_path: Path) -> None:  # noqa: F811
    plan = plan_batch(cfg, tmp_path / "scores.csv", as_of=AS_OF, model_uri="runs:/abc/model", previous="old.csv")
    calls: list = []
    core = ScoredBatch(plan, {"leads": "leads.csv"}, "sqlite:///x.db", Pyfunc(scorer), "", [Recorder("extra", calls)])
    assert isinstance(core.steps[0], AlertsStep) and core.steps[0].columns == []
    assert len(batch_steps(plan, core.thresholds)) == 1
    tables = [feature_table(300, 5), feature_table(200, 6)]
    scores = [core.predict(t) for t in tables]
    previous = [scores[0].head(100).assign(score=0.0, grade="D"), None]  # 100 leads were cold, the rest are new
    run(core, tables, previous)
    summary = core.finish(0, 0)

    alerts = pd.read_csv(plan.alerts_output)
    expected = pd.concat([crossings(s, p, core.thresholds) for s, p in zip(scores, previous, strict=True)],
                         ignore_index=True)
    assert list(alerts.columns) == ALERT_COLUMNS and len(alerts) == len(expected) > 0
    assert alerts["lead_id"].tolist() == expected["lead_id"].tolist()
    assert summary["alerts"] == len(alerts) and summary["alerts_output"] == str(plan.alerts_output)
    assert list(pd.read_csv(plan.output).columns) == [*OUTPUT_COLUMNS, "extra"]  # alerts add no column
    assert runs[0]["summary"]["alerts"] == len(alerts)


def test_a_failed_batch_leaves_neither_scores_nor_alerts(cfg, scorer, runs, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "scores.parquet").write_bytes(b"yesterday's scores")
    plan = plan_batch(cfg, tmp_path / "scores.parquet", as_of=AS_OF, model_uri="runs:/abc/model", previous="old.parquet")
    core = ScoredBatch(plan, {"leads": "leads.parquet"}, "sqlite:///x.db", Pyfunc(scorer), "",
                       [Recorder("late", [], fail_on_part=2)])
    with pytest.raises(RuntimeError, match="step failed"):
        run(core, [feature_table(100, 5), feature_table(100, 6)])
    assert (tmp_path / "scores.parquet").read_bytes() == b"yesterday's scores"
    assert not plan.alerts_output.exists() and leftover_temp_files(tmp_path) == [] and runs == []


def test_an_engine_that_counts_drift_itself_gives_its_result(cfg, scorer, runs, tmp_path: Path) -> None:  # noqa: F811
    """The Spark engine: parts come without their feature table; its own drift result is reported."""
    plan = plan_batch(cfg, tmp_path / "scores.parquet", as_of=AS_OF, model_uri="runs:/abc/model")
    reference = ScoredBatch(plan, {"leads": "l"}, "sqlite:///x.db", Pyfunc(scorer), "")
    tables = [feature_table(300, 5)]
    run(reference, tables)
    counted = reference.drift.finish()

    core = ScoredBatch(plan, {"leads": "l"}, "sqlite:///x.db", Pyfunc(scorer), "")
    core.drift_result = lambda: counted
    with core:
        core.part(core.predict(tables[0]), tables[0][["lead_id"]])
    assert core.drift.accumulator.rows == 0  # nothing counted by the core itself
    summary = core.finish(0, 0, engine="spark")
    assert summary["engine"] == "spark" and "chunks" not in summary
    assert summary["psi_score"] == round(counted.score.psi, 4)
    assert runs[-1]["tags"] == {"engine": "spark"}
