"""Issue 13 item 5, through the real CLI: --version, flags without type noise in --help, the hint when
there is a challenger but no champion, and the demo's store found from the project root. All on copies
of the session `trained` store: no training here."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, Trained, run_cli_many
from tests.e2e.test_cli_errors import assert_clean_failure

CONFIG = str(REPO / "configs/default.yaml")


def _store_copy(trained: Trained, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained.workdir / "mlflow.db", folder / "mlflow.db")  # artifacts stay where the runs put them
    return folder / "mlflow.db"


def test_version_and_help_and_challenger_hint(trained: Trained, tmp_path: Path) -> None:
    db = _store_copy(trained, tmp_path / "store")
    uri = f"sqlite:///{db}"
    client = MlflowClient(uri, registry_uri=uri)
    challenger = client.get_model_version_by_alias("lead-scorer", "challenger").version
    client.delete_registered_model_alias("lead-scorer", "champion")  # what `leadscore train` alone leaves
    leads = str(trained.data / "leads.parquet")
    results = run_cli_many({
        "version": {"args": ["--version"], "cwd": tmp_path},
        "help": {"args": ["predict", "--help"], "cwd": tmp_path},
        "predict": {"args": ["predict", "--leads", leads, "--output", str(tmp_path / "s.parquet"), "--config", CONFIG],
                    "cwd": tmp_path, "env": {"MLFLOW_TRACKING_URI": uri}},
    })
    assert results["version"].code == 0 and results["version"].stdout.startswith("leadscore 0.")
    help_text = results["help"].stdout
    assert "--quiet" in help_text and "--outcomes" in help_text and "<bool>" not in help_text
    failed = results["predict"]
    assert_clean_failure(failed, "models:/lead-scorer@champion", "no champion yet", "models:/lead-scorer@challenger",
                         f"leadscore promote --version {challenger}")
    assert not (tmp_path / "s.parquet").exists()


def test_demo_store_is_found_from_the_project_root(trained: Trained, tmp_path: Path) -> None:
    """After `make demo` the store is demo/mlflow.db; predict and compare run from the project root
    (no ./mlflow.db, no MLFLOW_TRACKING_URI) use it and say so."""
    _store_copy(trained, tmp_path / "demo")
    leads = pd.read_parquet(trained.data / "leads.parquet").head(50)
    leads.to_parquet(tmp_path / "leads.parquet")
    results = run_cli_many({
        "compare": {"args": ["compare", "--config", CONFIG], "cwd": tmp_path},
        "predict": {"args": ["predict", "--leads", str(tmp_path / "leads.parquet"), "--as-of", "2026-06-01",
                             "--output", str(tmp_path / "s.parquet"), "--config", CONFIG], "cwd": tmp_path},
    })
    for name, result in results.items():
        assert result.code == 0, (name, result.stderr)
        assert "Using the demo's tracking store demo/mlflow.db" in result.stderr
    assert "lightgbm" in results["compare"].stdout and "No runs yet" not in results["compare"].stdout
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == 50
    assert not (tmp_path / "mlflow.db").exists()  # nothing created beside: the demo's store was used
