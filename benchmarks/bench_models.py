"""Model quality benchmarks (issue 4), run through the real CLI.

  backtest: python benchmarks/bench_models.py backtest --leads 20000 --at 2026-03-25
  x_education: python benchmarks/bench_models.py xeducation --csv ../shared/datasets/x_education_leads.csv
  train time:  python benchmarks/bench_models.py traintime --leads 100000
  oracles:     python benchmarks/bench_models.py oracle --leads 20000 --at 2026-03-25   (see oracle_bounds.py)
  memory/time per training stage: python benchmarks/profile_train.py --data DIR --config configs/default.yaml

Config variants without editing the config: --set models.lightgbm.search_budget=1 --set training.gap_days=0
(repeatable; written to a copy of the config's folder). --data DIR reuses a generated world.

Each prints one JSON line with the measured numbers and the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", *args, "--json", "--quiet"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "seconds": round(time.perf_counter() - start, 1)}


def with_overrides(config: str, sets: list[str], work: Path) -> str:
    """A copy of `config` (and its folder, for relative rule paths) with dotted-key overrides applied."""
    if not sets:
        return config
    folder = work / "configs"
    shutil.copytree(Path(config).parent, folder, dirs_exist_ok=True)
    doc = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    for item in sets:
        key, value = item.split("=", 1)
        *parents, leaf = key.split(".")
        node = doc
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = yaml.safe_load(value)
    out = folder / "bench_override.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["backtest", "xeducation", "traintime", "oracle"])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--at", default="2026-03-25")
    parser.add_argument("--csv", default=str(REPO.parent / "shared/datasets/x_education_leads.csv"))
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    parser.add_argument("--set", action="append", default=[], help="dotted.key=value config override")
    parser.add_argument("--data", help="an already generated world (skips generate)")
    parser.add_argument("--particles", type=int, default=1000, help="oracle: particles per lead of the filter")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadscore-bench-"))
    args.config = with_overrides(args.config, args.set, work)
    if args.what == "xeducation":
        out = cli("train", "--config", str(REPO / "configs/examples/x_education.yaml"), "--data", args.csv, "--cv", "5", cwd=work)
        print(json.dumps({n: {k: round(v, 4) for k, v in m.items() if k.startswith("cv_") or k == "roc_auc"}
                          for n, m in out["models"].items()} | {"seconds": out["seconds"]}))
        return
    data = Path(args.data) if args.data else work / "data"
    gen = {"seconds": 0.0} if args.data else cli("generate", "--out", str(data), "--leads", str(args.leads), cwd=work)
    if args.what == "oracle":
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks/oracle_bounds.py"), "--data", str(data),
                               "--leads", str(args.leads), "--at", args.at, "--particles", str(args.particles)],
                              env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(REPO))}, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        print(proc.stdout.strip().splitlines()[-1])
        return
    if args.what == "backtest":
        out = cli("backtest", "--at", args.at, "--truth", str(data / "truth.parquet"), "--data", str(data),
                  "--config", args.config, cwd=work)
        models = {n: {k: round(v, 4) for k, v in m.items()} for n, m in out["models"].items()}
        print(json.dumps({"open_leads": out["open_leads"], "conversions": out["conversions"], "models": models,
                          "generate_seconds": gen["seconds"], "backtest_seconds": out["seconds"]}))
    else:
        out = cli("train", "--data", str(data), "--config", args.config, cwd=work)
        print(json.dumps({"leads": args.leads, "rows": out["rows"], "train_seconds": out["seconds"],
                          "test_roc_auc": {n: round(m["roc_auc"], 4) for n, m in out["models"].items()}}))


if __name__ == "__main__":
    main()
