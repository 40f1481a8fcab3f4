"""Bad input through the real CLI: exit 2, one line naming the file / column / rows, no traceback,
no output written."""
from __future__ import annotations

import pandas as pd

from tests.conftest import REPO, run_cli


def assert_clean_failure(result, *needles, code=2):
    assert result.code == code, (result.code, result.stderr)
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 3, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_unknown_config_key_suggests_the_close_one(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("training:\n  horizon: 30\n")
    result = run_cli("train", "--config", str(cfg), cwd=tmp_path)
    assert_clean_failure(result, "c.yaml", "training.horizon", "did you mean 'training.horizon_days'")


def test_missing_config_file(tmp_path):
    assert_clean_failure(run_cli("train", "--config", str(tmp_path / "none.yaml"), cwd=tmp_path), "none.yaml", "not found")


def test_missing_data_folder(tmp_path):
    result = run_cli("train", "--data", str(tmp_path / "nowhere"), "--config", str(REPO / "configs/default.yaml"),
                     cwd=tmp_path)
    assert_clean_failure(result, "nowhere")


def test_duplicate_lead_ids_in_training_data(tmp_path, world):
    data = tmp_path / "data"
    data.mkdir()
    leads = pd.read_parquet(world / "leads.parquet")
    leads.loc[5, "lead_id"] = leads.loc[3, "lead_id"]
    leads.to_csv(data / "leads.csv", index=False)
    for name in ("events", "outcomes"):
        pd.read_parquet(world / f"{name}.parquet").to_parquet(data / f"{name}.parquet")
    result = run_cli("train", "--data", str(data), "--config", str(REPO / "configs/default.yaml"), cwd=tmp_path)
    assert_clean_failure(result, "leads.csv", "'lead_id'", "rows 4, 6")
    assert not (tmp_path / "mlflow.db").exists(), "a failed input check must not leave runs behind"


def test_predict_without_champion_and_output_untouched(tmp_path, world):
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"previous")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = run_cli("predict", "--leads", str(world / "leads.parquet"), "--output", str(out), cwd=tmp_path, env=env)
    assert_clean_failure(result, "models:/lead-scorer@champion", "no champion yet")
    assert out.read_bytes() == b"previous"


def test_predict_into_missing_folder(tmp_path, world):
    result = run_cli("predict", "--leads", str(world / "leads.parquet"), "--output", str(tmp_path / "no" / "s.parquet"),
                     cwd=tmp_path)
    assert_clean_failure(result, "does not exist")


def test_bad_as_of_date(tmp_path, world):
    result = run_cli("features", "--leads", str(world / "leads.parquet"), "--as-of", "next tuesday",
                     "--output", str(tmp_path / "f.parquet"), cwd=tmp_path)
    assert_clean_failure(result, "--as-of", "not a date")
    assert not (tmp_path / "f.parquet").exists()


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("train", "--config", str(tmp_path / "none.yaml"), "--debug", cwd=tmp_path)
    assert result.code != 0 and "Traceback" in result.stderr


def test_features_command_writes_lead_table(tmp_path, world):
    out = tmp_path / "features.parquet"
    result = run_cli("features", "--leads", str(world / "leads.parquet"), "--events", str(world / "events.parquet"),
                     "--as-of", "2026-03-01", "--output", str(out), "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    table = pd.read_parquet(out)
    leads = pd.read_parquet(world / "leads.parquet")
    assert table.columns[0] == "lead_id" and "junk_flag" in table.columns and table["junk_flag"].dtype == bool
    assert len(table) == int((leads["created_at"] < "2026-03-01").sum()) == result.json()["rows"]
    assert not {"email", "first_name", "last_name", "phone"} & set(table.columns)


def test_features_with_a_model_that_does_not_exist(tmp_path, world):
    out = tmp_path / "features.parquet"
    result = run_cli("features", "--leads", str(world / "leads.parquet"), "--as-of", "2026-03-01", "--output", str(out),
                     "--model-uri", "models:/lead-scorer@champion", cwd=tmp_path)
    assert_clean_failure(result, "models:/lead-scorer@champion", "no tracking store")
    assert not out.exists()
    missing = run_cli("features", "--leads", str(world / "leads.parquet"), "--as-of", "2026-03-01", "--output", str(out),
                      "--model-uri", str(tmp_path / "no_model_here"), cwd=tmp_path)
    assert_clean_failure(missing, "no_model_here", "no model there")
    assert not out.exists()
