"""`leadscore predict --engine spark` (PySpark, local[2]) against the pandas path, through the real CLI.

One Spark run (a JVM start costs 10-20 s) on the trained world, with --previous, a few cells the
contract repairs, late events, an event of an unknown lead and events of types the model has no
features for, compared with one pandas run: scores, alerts, drift reports, batch-run metrics and
warnings. The input errors below are caught on the driver before Spark starts; the per-bucket counting
of checks and drift bins is also checked without a JVM."""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from models.alerts import ALERT_COLUMNS
from pipeline.inputs.io import leftover_temp_files
from tests.conftest import run_cli, run_cli_many, write_config

AS_OF = "2026-05-01"
NUMERIC_TOLERANCE = 1e-9


def needs_pyspark() -> None:
    pytest.importorskip("pyspark", reason="the `spark` extra is not installed (`make test` installs it)")


UNKNOWN_TYPES = {"hologram_call": 2, "telepathy_ping": 1}


def events_with_repairs(world: Path, folder: Path) -> tuple[Path, list[int]]:
    """The world's events (some at or after AS_OF) with 3 empty event types (before AS_OF, late in the
    file, so their rows in a Spark batch are not their rows in the file), one event of a lead that is
    not in the leads file and 3 events of types the model has no features for (one more after AS_OF,
    which must not count); returns the file and the 1-based file rows of the empty types."""
    events = pd.read_parquet(world / "events.parquet")
    early = np.flatnonzero((events["timestamp"] < pd.Timestamp(AS_OF)).to_numpy())
    assert len(early) < len(events)  # the world goes on after AS_OF: late events to count
    rows = early[[-40, -30, -20]]
    assert rows.min() > 20_000  # far beyond the first Spark batch (10,000 rows)
    events.loc[rows, "event_type"] = None
    lead = events.loc[early[0], "lead_id"]
    extra = [{"lead_id": "NOT-A-LEAD", "timestamp": pd.Timestamp("2026-01-05"), "event_type": "demo_request"}]
    extra += [{"lead_id": lead, "timestamp": pd.Timestamp("2026-03-01"), "event_type": kind}
              for kind, n in UNKNOWN_TYPES.items() for _ in range(n)]
    extra += [{"lead_id": lead, "timestamp": pd.Timestamp("2026-07-01"), "event_type": "hologram_call"}]
    events = pd.concat([events, pd.DataFrame(extra)], ignore_index=True)
    path = folder / "events.parquet"
    events.to_parquet(path)
    return path, [int(r) + 1 for r in rows]


def previous_scores(world: Path, folder: Path) -> Path:
    """A previous scoring (CSV) to alert against: random scores and grades, 300 leads missing (new
    leads), 5 leads listed twice (the last row, cold, counts) and a lead that is not scored today."""
    leads = pd.read_parquet(world / "leads.parquet", columns=["lead_id"])
    rng = np.random.default_rng(3)
    previous = leads.assign(score=rng.integers(0, 100, len(leads)), grade=rng.choice(list("ABCD"), len(leads)))
    previous = previous.drop(previous.sample(300, random_state=1).index)
    again = previous.iloc[:5].assign(score=0, grade="D")
    stranger = pd.DataFrame({"lead_id": ["NOT-A-LEAD"], "score": [1], "grade": ["D"]})
    path = folder / "previous.csv"
    pd.concat([previous, again, stranger], ignore_index=True).to_csv(path, index=False)
    return path


def assert_same_scores(spark: pd.DataFrame, pandas: pd.DataFrame, skip: tuple[str, ...] = ("scored_at",)) -> None:
    """All columns `leadscore predict` writes (whatever the scorer returns today) but `scored_at`: numbers
    to 1e-9, everything else identical."""
    assert list(spark.columns) == list(pandas.columns)
    assert spark["lead_id"].tolist() == pandas["lead_id"].tolist()  # same leads, same order
    for col in pandas.columns:
        if col in skip:
            continue
        want, got = pandas[col], spark[col]
        if pd.api.types.is_float_dtype(want.dtype):
            np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=0,
                                       atol=NUMERIC_TOLERANCE, err_msg=col)
        elif pd.api.types.is_datetime64_any_dtype(want.dtype):
            assert got.dtype == want.dtype and (got == want).all(), col
        else:
            differ = [i for i, (w, g) in enumerate(zip(want.tolist(), got.tolist())) if not _same(w, g)]
            assert not differ, (col, want.iloc[differ[:3]].tolist(), got.iloc[differ[:3]].tolist())


def _same(a: object, b: object) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA for x in (a, b)]
    return all(missing) if any(missing) else a == b


def assert_close(got: object, want: object, where: str = "") -> None:
    """Equal JSON values, numbers to 1e-9."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)) and abs(got - want) <= NUMERIC_TOLERANCE, (where, got, want)
    else:
        assert got == want, (where, got, want)


def batch_runs(uri: str, since_ms: int) -> dict[str, object]:
    """The batch runs logged since SINCE_MS, by engine (the pandas path sets no engine tag)."""
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.get_experiment_by_name("lead-scoring-batch")
    runs = [r for r in client.search_runs([exp.experiment_id]) if r.info.start_time >= since_ms]
    by_engine = {r.data.tags.get("engine", "pandas"): r for r in runs}
    assert len(by_engine) == len(runs) == 2, [r.data.tags for r in runs]
    return by_engine


def warning_lines(stderr: str, folder: Path) -> set[str]:
    """stderr lines with the run's own folder replaced, so two runs' lines compare."""
    return {line.replace(str(folder), "OUT") for line in stderr.splitlines() if line.strip()}


def test_spark_engine_scores_like_pandas(trained, tmp_path: Path) -> None:
    """One run of each engine with --previous: the same scores, alerts, drift reports, batch-run metrics
    and artifacts, summary keys and warning lines."""
    needs_pyspark()
    events, repaired_rows = events_with_repairs(trained.data, tmp_path)
    previous = previous_scores(trained.data, tmp_path)
    leads = str(trained.data / "leads.parquet")
    common = ["predict", "--leads", leads, "--events", str(events), "--as-of", AS_OF, "--previous", str(previous), "--json"]
    out = {name: tmp_path / name for name in ("pandas", "spark")}
    for folder in out.values():
        folder.mkdir()
    since_ms = int(time.time() * 1000) - 1
    runs = run_cli_many({
        "pandas": {"args": [*common, "--output", str(out["pandas"] / "scores.parquet")], "cwd": trained.workdir,
                   "env": trained.env},
        "spark": {"args": [*common, "--output", str(out["spark"] / "scores.parquet"), "--engine", "spark"],
                  "cwd": trained.workdir, "env": {**trained.env, "LEADSCORE_SPARK_MASTER": "local[2]"}},
    })
    for name, result in runs.items():
        assert result.code == 0, (name, result.stderr[-3000:])
        assert "Traceback" not in result.stderr, (name, result.stderr[-3000:])
    summary, expected = runs["spark"].json(), runs["pandas"].json()
    assert summary["engine"] == "spark" and summary["output"] == str(out["spark"] / "scores.parquet")
    assert summary.keys() - {"engine"} == expected.keys() - {"chunks"}
    for key, value in expected.items():
        if key not in ("chunks", "output", "alerts_output", "drift_report", "accounts_output"):
            assert summary[key] == value, key
    assert summary["alerts_output"] == str(out["spark"] / "scores.alerts.parquet") and summary["alerts"] > 0
    assert summary["drift_report"] == str(out["spark"] / "scores.drift.html")
    assert summary["accounts_output"] == str(out["spark"] / "scores.accounts.parquet")
    assert_same_scores(pd.read_parquet(out["spark"] / "scores.parquet"), pd.read_parquet(out["pandas"] / "scores.parquet"))

    # alerts: the same file (columns, rows in order, values, column types), the points model's thresholds
    alerts = {name: pd.read_parquet(folder / "scores.alerts.parquet") for name, folder in out.items()}
    assert list(alerts["spark"].columns) == ALERT_COLUMNS and len(alerts["spark"]) == summary["alerts"]
    assert_same_scores(alerts["spark"], alerts["pandas"], skip=())
    assert alerts["spark"].dtypes.to_dict() == alerts["pandas"].dtypes.to_dict()
    twice = set(pd.read_csv(previous, dtype={"lead_id": str})["lead_id"].iloc[:5])
    relisted = alerts["spark"][alerts["spark"]["lead_id"].isin(twice)]
    assert (relisted["previous_score"] == 0).all() and not relisted["new_lead"].any()  # the last row counted

    # drift: the same reports (numbers to 1e-9), the same metrics and artifacts in the batch run
    reports = {name: json.loads((folder / "scores.drift.json").read_text()) for name, folder in out.items()}
    assert reports["spark"]["rows"] == summary["rows"] and reports["spark"]["features"]
    assert_close(reports["spark"], reports["pandas"])
    html = {name: (folder / "scores.drift.html").read_text() for name, folder in out.items()}
    assert html["spark"] == html["pandas"]
    logged = batch_runs(trained.uri, since_ms)
    metrics = {name: run.data.metrics for name, run in logged.items()}
    assert metrics["spark"].keys() == metrics["pandas"].keys() - {"chunks"}
    assert any(k.startswith("psi.") for k in metrics["spark"]) and {"psi_score", "psi_max",
                                                                    "features_drifted"} <= metrics["spark"].keys()
    for key, value in metrics["pandas"].items():
        if key != "chunks":
            assert abs(metrics["spark"][key] - value) <= NUMERIC_TOLERANCE, key
    client = MlflowClient(tracking_uri=trained.uri, registry_uri=trained.uri)
    for run in logged.values():
        assert sorted(a.path for a in client.list_artifacts(run.info.run_id, "drift")) == \
            ["drift/scores.drift.html", "drift/scores.drift.json"]

    # warnings: the same lines (late events, unknown event types and leads, drift), but the cell-level
    # contract warning, whose examples on Spark come from one batch
    lines = {name: warning_lines(runs[name].stderr, folder) for name, folder in out.items()}
    late = [line for line in lines["spark"] if "events at or after" in line]
    assert late and late[0].startswith(f"{events}: ") and late[0] in lines["pandas"], lines
    kinds = [line for line in lines["spark"] if "types the model has no features for" in line]
    assert kinds == [f"{events}: 6 events of 3 types the model has no features for count only in the activity "
                     "totals ('unknown' 3, 'hologram_call' 2, 'telepathy_ping' 1)"], lines  # 'unknown': the empty types
    assert any("drift above PSI" in line for line in lines["spark"])
    cell_level = {line for line in lines["spark"] | lines["pandas"] if "without an event type" in line}
    assert lines["spark"] - cell_level == lines["pandas"] - cell_level
    stderr = runs["spark"].stderr
    typeless = [line for line in stderr.splitlines() if "without an event type" in line]
    assert len(typeless) == 1 and typeless[0].startswith(f"{events}: 3 events"), stderr
    shown = [int(r) for r in re.search(r"rows ([\d, ]+)", typeless[0]).group(1).split(", ")]
    assert shown and set(shown) <= set(repaired_rows), (typeless, repaired_rows)
    assert f"{events}: 1 events of 1 leads not in the leads file were ignored" in stderr.splitlines(), stderr
    for folder in [tmp_path, *out.values()]:
        assert not leftover_temp_files(folder) and not list(folder.glob(".*spark*")), list(folder.iterdir())


def test_spark_engine_previous_file_errors_are_the_pandas_ones(trained, tmp_path: Path) -> None:
    """A bad --previous file fails on the driver before Spark starts: the pandas path's one line (file
    rows across batches included), exit 2, no output of any kind."""
    needs_pyspark()
    leads = pd.read_parquet(trained.data / "leads.parquet", columns=["lead_id"])
    no_score = tmp_path / "no_score.csv"
    leads.assign(probability=0.5).to_csv(no_score, index=False)
    bad_cell = tmp_path / "bad_cell.csv"
    scores = leads.assign(score="50", grade="B")
    scores.loc[1500, "score"] = "high"
    scores.to_csv(bad_cell, index=False)
    config = write_config(tmp_path, {"scoring": {"chunk_leads": 1000}})  # the bad cell in the second batch
    calls = {}
    for engine in ("pandas", "spark"):
        for name, path in (("no_score", no_score), ("bad_cell", bad_cell)):
            if (engine, name) == ("pandas", "no_score"):
                continue  # its line is pinned in test_predict_stream.py
            folder = tmp_path / f"{engine}-{name}"
            folder.mkdir()
            calls[f"{engine}-{name}"] = {
                "args": ["predict", "--leads", str(trained.data / "leads.parquet"), "--events",
                         str(trained.data / "events.parquet"),
                         "--as-of", AS_OF, "--output", str(folder / "scores.parquet"), "--previous", str(path),
                         "--config", str(config), "--engine", engine, "--quiet"],
                "cwd": trained.workdir, "env": trained.env}
    runs = run_cli_many(calls)
    for key, result in runs.items():
        assert result.code == 2, (key, result.stderr)
        assert sorted(p.name for p in (tmp_path / key).iterdir()) == [], key
    assert runs["spark-no_score"].stderr.strip().splitlines() == [
        f"leadscore: error: {no_score}: missing required column 'score' "
        "(--previous must be a scores file written by leadscore predict)"]
    assert runs["spark-bad_cell"].stderr.strip().splitlines() == runs["pandas-bad_cell"].stderr.strip().splitlines() == [
        f"leadscore: error: {bad_cell}: column 'score' has 1 values that are not numbers, rows 1501"]


def test_spark_engine_bad_events_fail_in_one_line(trained, tmp_path: Path) -> None:
    needs_pyspark()
    events = pd.read_parquet(trained.data / "events.parquet").drop(columns=["timestamp"])
    events.to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"previous scores")
    result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--events", str(tmp_path / "events.parquet"),
                     "--as-of", AS_OF, "--output", str(out), "--engine", "spark", "--quiet",
                     cwd=trained.workdir, env=trained.env)
    assert result.code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "missing required column 'timestamp'" in lines[0] and "events.parquet" in lines[0], lines
    assert out.read_bytes() == b"previous scores"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.parquet", "scores.parquet"]


def test_spark_engine_without_pyspark_says_how_to_install(trained, tmp_path: Path) -> None:
    """A user without the `spark` extra: one line with the install command, exit 2 (pyspark hidden by a
    package of the same name that fails to import, first on PYTHONPATH)."""
    fake = tmp_path / "hide" / "pyspark"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named pyspark')\n")
    out = tmp_path / "scores.parquet"
    result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--as-of", AS_OF, "--output", str(out),
                     "--engine", "spark", cwd=trained.workdir, env={**trained.env, "PYTHONPATH": str(fake.parent)})
    assert result.code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'leadscore[spark]'" in lines[0], lines
    assert not out.exists()


def test_executor_messages_name_file_rows_and_merge_per_kind(caplog: pytest.LogCaptureFixture) -> None:
    """Contract messages from a Spark batch: batch rows become file rows (Parquet) or example values (CSV),
    one warning kind from several batches is one line with the total, and a batch that reports twice
    (a retried task) counts once."""
    from pipeline.inputs.chunks import stable_hash
    from pipeline.spark.tasks import TaskReports, file_rows

    text = "f.csv: column 'timestamp' has 2 values that are not ISO dates, rows 1, 3 ('x', 'y'); use YYYY-MM-DD"
    assert file_rows(text, np.array([40, 41, 42])) == text.replace("rows 1, 3", "rows 41, 43")
    assert file_rows(text,
                     None) == "f.csv: column 'timestamp' has 2 values that are not ISO dates (e.g. 'x', 'y'); use YYYY-MM-DD"
    assert file_rows("f: column 'lead_id' has 5 empty values, rows 1, 2, 3 and 2 more", np.arange(10, 15)) \
        == "f: column 'lead_id' has 5 empty values, rows 11, 12, 13 and 2 more"

    def batch(warnings: list[str], late: int, strays: list[str]) -> dict:
        return {"warnings": warnings, "late": late, "unknown": len(strays),
                "unknown_leads": np.unique(stable_hash(pd.Series(strays))) if strays else None}

    first = batch(["e.parquet: 2 events without an event type count as 'unknown' ('event_type' 2, rows 7, 9)"], 4, ["x",
                                                                                                                    "y"])
    notes = {("events", 1,
              0): batch(["e.parquet: 1 events without an event type count as 'unknown' ('event_type' 1, rows 90)"],
                                     1, ["x", "z", "z"]),
             ("events", 0, 0): first}
    notes.update({("events", 0, 0): first})  # the same batch again: a retried task
    reports = TaskReports.collect(notes)
    assert (reports.late, reports.unknown, reports.unknown_leads) == (5, 5, 3)
    with caplog.at_level("WARNING", logger="leadscore"):
        reports.warn("e.parquet", pd.Timestamp(AS_OF))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0].startswith("e.parquet: 3 events without an event type") and "rows 7, 9" in lines[0]
    assert lines[1] == "e.parquet: 5 events at or after 2026-05-01 00:00:00 were ignored"
    assert lines[2] == "e.parquet: 5 events of 3 leads not in the leads file were ignored"


def test_bucket_counts_add_up_to_the_pandas_paths(trained, caplog: pytest.LogCaptureFixture) -> None:
    """What each Spark bucket counts on its feature table (`_report_bucket`: unknown event types, unseen
    categories, the features' drift bins) plus the scores' bins counted on the driver (`BatchObserver`)
    give the pandas path's warnings and drift report, here without a JVM; a bucket reported twice counts
    once, and a lost bucket is an error, not a wrong report."""
    from types import SimpleNamespace

    import mlflow.pyfunc

    from pipeline.config import load_config
    from pipeline.scoring.alerts import alert_thresholds
    from pipeline.scoring.checks import ChunkChecks
    from pipeline.scoring.drift import BatchDrift
    from pipeline.spark.output import BatchObserver
    from pipeline.spark.score import _report_bucket, lead_buckets
    from pipeline.spark.tasks import TaskReports
    from tests.conftest import REPO

    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        mlflow.set_tracking_uri(trained.uri)
        mlflow.set_registry_uri(trained.uri)
        scorer = mlflow.pyfunc.load_model("models:/lead-scorer@champion").unwrap_python_model().scorer
    finally:  # process-global settings: later tests must not read this registry
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    leads = pd.read_parquet(trained.data / "leads.parquet")
    leads = leads[leads["created_at"] < pd.Timestamp(AS_OF)].reset_index(drop=True)
    events = pd.read_parquet(trained.data / "events.parquet")
    events = events[(events["timestamp"] < pd.Timestamp(AS_OF)) & events["lead_id"].isin(leads["lead_id"])]
    events.loc[events.index[:4], "event_type"] = "hologram_call"
    common = leads["industry"].value_counts().index[:3].tolist()

    class Known:  # a model that knows 3 industries: the others are unseen
        def known_categories(self) -> dict[str, list[str]]:
            return {"industry": common}

    sources = {"leads": "leads.parquet", "events": "events.parquet"}
    model = SimpleNamespace(model=Known(), builder=scorer.builder, drift_reference=scorer.drift_reference, info=scorer.info)
    warn_psi = load_config(REPO / "configs/default.yaml").scoring.drift_warn_psi
    table = scorer.builder.transform(leads, events.reset_index(drop=True), pd.Timestamp(AS_OF))
    scores = scorer.score(table, explain=False)

    one = ChunkChecks(model, sources)
    one.first = False
    one.before(leads, events)
    one.after(table)
    one_drift = BatchDrift(model, warn_psi)
    one_drift.update(table, scores)

    class Notes(dict):
        def add(self, report: dict) -> None:
            self.update(report)

    buckets = lead_buckets(leads, 2)  # leads sharing an e-mail share a bucket (duplicate_email), as on Spark
    notes, halves = Notes(), [np.flatnonzero(buckets == b) for b in (0, 1)]
    template = ChunkChecks(model, sources).detached()
    for bucket, rows in [(0, halves[0]), (1, halves[1]), (1, halves[1])]:  # bucket 1 twice: a retried task
        part = leads.iloc[rows].reset_index(drop=True)
        ev = events[events["lead_id"].isin(part["lead_id"])].reset_index(drop=True)
        part_table = scorer.builder.transform(part, ev, pd.Timestamp(AS_OF))
        _report_bucket(notes, bucket, part_table, part, ev, template, scorer.drift_reference)
    reports = TaskReports.collect(notes)
    assert len(reports.checks) == len(reports.drift) == 2
    spark = ChunkChecks(model, sources)
    for part in reports.checks:
        spark.merge(part)
    assert spark.unknown_types == one.unknown_types and spark.unknown_types["hologram_call"] == 4
    assert spark.unseen == one.unseen and spark.unseen["industry"]
    lines = []
    for checks in (one, spark):
        caplog.clear()
        with caplog.at_level("WARNING", logger="leadscore"):
            checks.warn()
        lines.append([r.getMessage() for r in caplog.records])
    assert lines[0] == lines[1] and len(lines[0]) == 2, lines

    observer = BatchObserver(BatchDrift(model, warn_psi), alert_thresholds(scorer,
                                                                           load_config(REPO / "configs/default.yaml")))
    observer.add_feature_counts(reports.drift, len(leads))
    for rows in np.array_split(np.arange(len(scores)), 3):  # the driver's batches need not be the buckets
        observer(scores.iloc[rows].reset_index(drop=True))
    assert_close(observer.drift_result().to_dict(), one_drift.finish().to_dict())
    lost = BatchObserver(BatchDrift(model, warn_psi), observer.thresholds)
    with pytest.raises(RuntimeError, match="drift counts cover"):
        lost.add_feature_counts(reports.drift[:1], len(leads))
