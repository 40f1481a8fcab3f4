"""The registered pyfunc behind a real `mlflow models serve --env-manager local` (SPEC 5): rows POSTed to
/invocations score exactly as `leadscore predict` scores the same leads."""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from pipeline.config import load_config
from pipeline.inputs.as_of import as_of_cut
from pipeline.inputs.data import load_scoring_inputs
from tests.conftest import REPO, run_cli

AS_OF = "2026-05-01"
MODEL = "lead-scorer"
START_TIMEOUT = 120  # seconds for the server to answer /ping (imports MLflow, loads the model)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def champion_scorer(uri: str) -> tuple[object, str]:
    """The champion's LeadScorer read from its artifact folder (no global MLflow state in this process)."""
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(MODEL, "champion")
    location = client.get_model_version_download_uri(MODEL, version.version)
    folder = Path(location.removeprefix("file://"))
    return joblib.load(folder / "artifacts" / "scorer.joblib"), str(version.version)


def feature_table(scorer: object, world: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """The lead-level table the model takes, built as `leadscore predict` builds it (model's own builder)."""
    cfg = load_config(REPO / "configs/default.yaml")
    inputs = as_of_cut(load_scoring_inputs(cfg, world / "leads.parquet", world / "events.parquet"), as_of)
    return scorer.builder.transform(inputs.leads, inputs.events, as_of)


def to_json_cell(value: object) -> object:
    """Exact JSON: floats keep every digit (repr), NaN / NaT become null, timestamps ISO 8601."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return to_json_cell(value.item())
    return value


def payload(table: pd.DataFrame, version: str) -> bytes:
    rows = [[to_json_cell(v) for v in row] for row in table.astype(object).itertuples(index=False)]
    body = {"dataframe_split": {"columns": [str(c) for c in table.columns], "data": rows},
            "params": {"model_version": version}}
    return json.dumps(body).encode("utf-8")


def start_server(uri: str, port: int, log_path: Path) -> subprocess.Popen:
    """`mlflow models serve` in its own process group (it execs uvicorn in a child: kill the group)."""
    venv_bin = str(Path(sys.executable).parent)
    # both URIs: mlflow.set_registry_uri() in an earlier test of this worker exports MLFLOW_REGISTRY_URI
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env.update(MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri, PATH=venv_bin + os.pathsep + env.get("PATH", ""))
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{MODEL}@champion",
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    else:  # the server is gone; uvicorn may still run in its group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_ready(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow models serve exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"mlflow models serve did not answer /ping within {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")


def invoke(port: int, body: bytes) -> pd.DataFrame:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return pd.DataFrame(json.loads(response.read())["predictions"])
    except urllib.error.HTTPError as exc:
        pytest.fail(f"/invocations answered {exc.code}: {exc.read()[:2000]!r}")


def assert_same_scores(served: pd.DataFrame, batch: pd.DataFrame) -> None:
    """Every output column of `leadscore predict` (whatever the scorer returns today) but `scored_at`."""
    assert set(served.columns) == set(batch.columns)
    assert served["lead_id"].tolist() == batch["lead_id"].tolist()
    for col in batch.columns:
        if col in ("lead_id", "scored_at"):
            continue
        want, got = batch[col], served[col]
        if col == "as_of":
            assert (pd.to_datetime(got) == pd.to_datetime(want)).all()
        elif pd.api.types.is_float_dtype(want.dtype):
            np.testing.assert_allclose(got.astype(float), want, rtol=0, atol=1e-9, err_msg=col)
        else:
            same = [(pd.isna(w) and pd.isna(g)) if (_missing(w) or _missing(g)) else str(w) == str(g)
                    for w, g in zip(want.tolist(), got.tolist())]
            differ = [not s for s in same]
            assert all(same), (col, want[differ].head(3).tolist(), got[differ].head(3).tolist())


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_served_model_scores_like_batch_predict(trained, tmp_path: Path) -> None:
    port, log_path = free_port(), tmp_path / "serve.log"
    server = start_server(trained.uri, port, log_path)
    try:
        # batch scores while the server starts (both take seconds; the machine has two cores)
        out = tmp_path / "scores.parquet"
        result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--events",
                         str(trained.data / "events.parquet"), "--as-of", AS_OF, "--output", str(out), "--json",
                         cwd=trained.workdir, env=trained.env)
        assert result.code == 0, result.stderr
        batch = pd.read_parquet(out)
        scorer, version = champion_scorer(trained.uri)
        # what a serving client runs: `leadscore features --model-uri` (the champion's own fitted builder)
        rows = tmp_path / "rows.parquet"
        made = run_cli("features", "--leads", str(trained.data / "leads.parquet"), "--events",
                       str(trained.data / "events.parquet"), "--as-of", AS_OF, "--output", str(rows),
                       "--model-uri", f"models:/{MODEL}@champion", cwd=trained.workdir, env=trained.env)
        assert made.code == 0, made.stderr
        table = pd.read_parquet(rows)
        in_process = feature_table(scorer, trained.data, pd.Timestamp(AS_OF))
        pd.testing.assert_frame_equal(table, in_process, check_dtype=False, check_categorical=False)
        assert table["lead_id"].tolist() == batch["lead_id"].tolist()
        # the rows a JSON client cannot send as NaN must be in the request: missing numbers and categories
        assert table.isna().any(axis=1).sum() > 100
        wait_ready(server, port, log_path)
        served = invoke(port, payload(table, version))
    finally:
        stop_server(server)
    assert len(served) == len(batch) > 1000
    assert (served["model_version"].astype(str) == version).all()
    assert_same_scores(served, batch)
    reasons = json.loads(served["top_reasons"].iloc[0])
    assert reasons and {"feature", "label", "value", "contribution"} <= set(reasons[0])
