"""`leadscore predict --engine spark` (PySpark, local[2]) against the pandas path, through the real CLI.

One Spark run (a JVM start costs 10-20 s) on the trained world, with a few cells the contract repairs
and an event of an unknown lead, so the executors' warnings are checked too; the input errors below
are caught on the driver before Spark starts."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.io import leftover_temp_files
from tests.conftest import run_cli, run_cli_many

AS_OF = "2026-05-01"
NUMERIC_TOLERANCE = 1e-9


def needs_pyspark() -> None:
    pytest.importorskip("pyspark", reason="the `spark` extra is not installed (`make test` installs it)")


def events_with_repairs(world: Path, folder: Path) -> tuple[Path, list[int]]:
    """The world's events with 3 empty event types (before AS_OF, late in the file, so their rows in a
    Spark batch are not their rows in the file) and one event of a lead that is not in the leads file;
    returns the file and the 1-based file rows of the empty types."""
    events = pd.read_parquet(world / "events.parquet")
    early = np.flatnonzero((events["timestamp"] < pd.Timestamp(AS_OF)).to_numpy())
    rows = early[[-40, -30, -20]]
    assert rows.min() > 20_000  # far beyond the first Spark batch (10,000 rows)
    events.loc[rows, "event_type"] = None
    stranger = {"lead_id": "NOT-A-LEAD", "timestamp": pd.Timestamp("2026-01-05"), "event_type": "demo_request"}
    events = pd.concat([events, pd.DataFrame([stranger])], ignore_index=True)
    path = folder / "events.parquet"
    events.to_parquet(path)
    return path, [int(r) + 1 for r in rows]


def assert_same_scores(spark: pd.DataFrame, pandas: pd.DataFrame) -> None:
    """All columns `leadscore predict` writes (whatever the scorer returns today) but `scored_at`: numbers
    to 1e-9, everything else identical."""
    assert list(spark.columns) == list(pandas.columns)
    assert spark["lead_id"].tolist() == pandas["lead_id"].tolist()  # same leads, same order
    for col in pandas.columns:
        if col == "scored_at":
            continue
        want, got = pandas[col], spark[col]
        if pd.api.types.is_float_dtype(want.dtype):
            np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=0,
                                       atol=NUMERIC_TOLERANCE, err_msg=col)
        elif pd.api.types.is_datetime64_any_dtype(want.dtype):
            assert (pd.to_datetime(got) == pd.to_datetime(want)).all(), col
        else:
            differ = [i for i, (w, g) in enumerate(zip(want.tolist(), got.tolist())) if not _same(w, g)]
            assert not differ, (col, want.iloc[differ[:3]].tolist(), got.iloc[differ[:3]].tolist())


def _same(a: object, b: object) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA for x in (a, b)]
    return all(missing) if any(missing) else a == b


def test_spark_engine_scores_like_pandas(trained, tmp_path: Path) -> None:
    needs_pyspark()
    events, repaired_rows = events_with_repairs(trained.data, tmp_path)
    leads = str(trained.data / "leads.parquet")
    common = ["predict", "--leads", leads, "--events", str(events), "--as-of", AS_OF, "--json"]
    runs = run_cli_many({
        "pandas": {"args": [*common, "--output", str(tmp_path / "pandas.parquet")], "cwd": trained.workdir,
                   "env": trained.env},
        "spark": {"args": [*common, "--output", str(tmp_path / "spark.parquet"), "--engine", "spark"],
                  "cwd": trained.workdir, "env": {**trained.env, "LEADSCORE_SPARK_MASTER": "local[2]"}},
    })
    for name, result in runs.items():
        assert result.code == 0, (name, result.stderr[-3000:])
        assert "Traceback" not in result.stderr, (name, result.stderr[-3000:])
    summary = runs["spark"].json()
    assert summary["engine"] == "spark" and summary["output"] == str(tmp_path / "spark.parquet")
    assert (summary["rows"], summary["grades"]) == (runs["pandas"].json()["rows"], runs["pandas"].json()["grades"])
    assert_same_scores(pd.read_parquet(tmp_path / "spark.parquet"), pd.read_parquet(tmp_path / "pandas.parquet"))
    # the executors' contract warnings reach the user once per kind, with rows of the events file
    stderr = runs["spark"].stderr
    typeless = [line for line in stderr.splitlines() if "without an event type" in line]
    assert len(typeless) == 1 and typeless[0].startswith(f"{events}: 3 events"), stderr
    shown = [int(r) for r in re.search(r"rows ([\d, ]+)", typeless[0]).group(1).split(", ")]
    assert shown and set(shown) <= set(repaired_rows), (typeless, repaired_rows)
    assert sum("leads not in the leads file were ignored" in line for line in stderr.splitlines()) == 1, stderr
    assert not leftover_temp_files(tmp_path) and not list(tmp_path.glob(".*spark*")), list(tmp_path.iterdir())


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
    and one warning kind from several batches is one line with the total."""
    from pipeline.spark import _emit_notes, file_rows

    text = "f.csv: column 'timestamp' has 2 values that are not ISO dates, rows 1, 3 ('x', 'y'); use YYYY-MM-DD"
    assert file_rows(text, np.array([40, 41, 42])) == text.replace("rows 1, 3", "rows 41, 43")
    assert file_rows(text, None) == "f.csv: column 'timestamp' has 2 values that are not ISO dates (e.g. 'x', 'y'); use YYYY-MM-DD"
    assert file_rows("f: column 'lead_id' has 5 empty values, rows 1, 2, 3 and 2 more", np.arange(10, 15)) \
        == "f: column 'lead_id' has 5 empty values, rows 11, 12, 13 and 2 more"
    with caplog.at_level("WARNING", logger="leadscore"):
        _emit_notes([("warning", "e.parquet: 2 events without an event type count as 'unknown' ('event_type' 2, rows 7, 9)"),
                     ("warning", "e.parquet: 1 events without an event type count as 'unknown' ('event_type' 1, rows 90)"),
                     ("unknown", 2), ("unknown", 3)], "e.parquet")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("e.parquet: 3 events without an event type") and "rows 7, 9" in lines[0]
    assert lines[1] == "e.parquet: 5 events of leads not in the leads file were ignored"
