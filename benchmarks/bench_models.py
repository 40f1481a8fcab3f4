"""Model quality benchmarks (issue 4), run through the real CLI.

  backtest: python benchmarks/bench_models.py backtest --leads 20000 --at 2026-03-25
  x_education: python benchmarks/bench_models.py xeducation --csv ../shared/datasets/x_education_leads.csv
  train time:  python benchmarks/bench_models.py traintime --leads 100000

Each prints one JSON line with the measured numbers and the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", *args, "--json", "--quiet"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["backtest", "xeducation", "traintime"])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--at", default="2026-03-25")
    parser.add_argument("--csv", default=str(REPO.parent / "shared/datasets/x_education_leads.csv"))
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadscore-bench-"))
    if args.what == "xeducation":
        out = cli("train", "--config", str(REPO / "configs/examples/x_education.yaml"), "--data", args.csv, "--cv", "5", cwd=work)
        print(json.dumps({n: {k: round(v, 4) for k, v in m.items() if k.startswith("cv_") or k == "roc_auc"}
                          for n, m in out["models"].items()} | {"seconds": out["seconds"]}))
        return
    gen = cli("generate", "--out", str(work / "data"), "--leads", str(args.leads), cwd=work)
    if args.what == "backtest":
        out = cli("backtest", "--at", args.at, "--truth", str(work / "data/truth.parquet"), "--data", str(work / "data"),
                  "--config", args.config, cwd=work)
        models = {n: {k: round(v, 4) for k, v in m.items()} for n, m in out["models"].items()}
        print(json.dumps({"open_leads": out["open_leads"], "conversions": out["conversions"], "models": models,
                          "generate_seconds": gen["seconds"], "backtest_seconds": out["seconds"]}))
    else:
        out = cli("train", "--data", str(work / "data"), "--config", args.config, cwd=work)
        print(json.dumps({"leads": args.leads, "rows": out["rows"], "train_seconds": out["seconds"],
                          "test_roc_auc": {n: round(m["roc_auc"], 4) for n, m in out["models"].items()}}))


if __name__ == "__main__":
    main()
