"""Scoring speed (issue 6): LeadScorer.score with and without reasons against the model's own cost, in one process.

  speed:  python benchmarks/bench_scoring.py speed --train-data /tmp/w20k --score-data /tmp/w1m --as-of 2026-07-01
  shapes: python benchmarks/bench_scoring.py shapes --train-data /tmp/w20k --score-data /tmp/w1m --as-of 2026-07-01 \
              --rows 100000 --shape "max_depth=5,num_leaves=15" --shape "max_depth=3,num_leaves=7,learning_rate=0.1"

`speed` trains each model of --models (default lightgbm,logreg) on --train-data exactly as `leadscore train`
does for one model (the configured parameters, no random search; --set overrides config keys), builds the
feature table of every lead of --score-data created before --as-of with the model's own builder, then times on
that same table, in this order and --repeat times (best kept):

  lightgbm: encode   model._encode(table)                                   (the table as LightGBM gets it)
            contrib  booster.predict(X, pred_contrib=True)                  (LightGBM's own SHAP)
            raw      booster.predict(X, raw_score=True)                     (LightGBM's own plain predict)
            explain  scorer.score(table, explain=True)                      (everything, with reasons)
            plain    scorer.score(table, explain=False)
            explain_without_model  score(explain=True) handed the contributions computed above: the cost
                     of everything but encoding and SHAP (reasons, fit / engagement, matrix grade, output)
  logreg:   contrib  model.contributions(table); raw: model.margin(table); the rest as above

and reports leads/s, explain/contrib and plain/raw, the model's shape (trees, leaves, depth), the load average
and CPU seconds. `shapes` trains LightGBM variants and reports their test ROC AUC next to the same speeds on
--rows rows, to see which shape reaches 20,000 leads/s with reasons and what it costs in AUC.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import Config, load_config  # noqa: E402
from pipeline.fitting import examples_for, fit_model, make_models  # noqa: E402
from pipeline.inputs.data import load_training_inputs  # noqa: E402
from pipeline.inputs.examples import build_examples  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, dict[str, float]]:
    """Best wall time of `repeat` runs, with its CPU time (all threads) and the 1-minute load average."""
    best: dict[str, float] | None = None
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        load = os.getloadavg()[0]
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if best is None or wall < best["seconds"]:
            best = {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "load": round(load, 2)}
    assert best is not None
    return result, best


def apply_sets(cfg: Config, sets: list[str]) -> Config:
    """--set a.b.c=value on the loaded config (validated assignment)."""
    import yaml

    for item in sets:
        key, value = item.split("=", 1)
        *parents, leaf = key.split(".")
        node: Any = cfg
        for k in parents:
            node = getattr(node, k)
        setattr(node, leaf, yaml.safe_load(value))
    return cfg


def train(cfg: Config, data: str, names: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Fit the requested models as `leadscore train` does for one model (no MLflow, no search)."""
    inputs = load_training_inputs(cfg, data)
    examples = build_examples(cfg, inputs, None)
    scorers, metrics = {}, {}
    for name, model in make_models(cfg, examples).items():
        if name not in names:
            continue
        t0 = time.perf_counter()
        scorer, m, _ = fit_model(cfg, model, examples_for(cfg, model, examples))
        scorers[name] = scorer
        metrics[name] = {"test_roc_auc": round(m["test_roc_auc"], 4), "val_roc_auc": round(m["val_roc_auc"], 4),
                         "train_seconds": round(time.perf_counter() - t0, 1)}
    return scorers, metrics


def score_table(scorer: Any, data: str, as_of: pd.Timestamp, rows: int | None) -> pd.DataFrame:
    """The feature table of every lead created before `as_of` (the first `rows` of them if given)."""
    root = Path(data)
    leads = pd.read_parquet(root / "leads.parquet")
    leads = leads[leads["created_at"] < as_of].reset_index(drop=True)
    if rows:
        leads = leads.head(rows)
    events = pd.read_parquet(root / "events.parquet", columns=["lead_id", "timestamp", "event_type"])
    events = events[events["timestamp"] < as_of].reset_index(drop=True)
    table = scorer.builder.transform(leads, events, as_of)
    del events
    gc.collect()
    return table


def shape(model: Any) -> dict[str, Any]:
    """Trees used, mean / max leaves and mean / max depth of a LightGBM model."""
    booster = getattr(model, "booster", None)
    if booster is None:
        return {"inputs": len(model.feature_names)}
    trees = booster.dump_model(num_iteration=model.best_iteration)["tree_info"]

    def depth(node: dict) -> int:
        return 0 if "leaf_index" in node else 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    depths = [depth(t["tree_structure"]) for t in trees]
    leaves = [t["num_leaves"] for t in trees]
    return {"trees": len(trees), "mean_leaves": round(float(np.mean(leaves)), 1), "max_leaves": int(max(leaves)),
            "mean_depth": round(float(np.mean(depths)), 1), "max_depth": int(max(depths)),
            "inputs": len(model.feature_names)}


def measure(name: str, scorer: Any, table: pd.DataFrame, repeat: int) -> dict[str, Any]:
    n = len(table)
    model = scorer.model
    out: dict[str, Any] = {"model": name, "leads": n, **shape(model)}
    if hasattr(model, "booster"):
        X, out["encode"] = timed(lambda: model._encode(table), repeat)
        it = model.best_iteration
        contrib, out["contrib"] = timed(lambda: model.booster.predict(X, pred_contrib=True, num_iteration=it), repeat)
        _, out["raw"] = timed(lambda: model.booster.predict(X, raw_score=True, num_iteration=it), repeat)
        del X
    else:
        contrib, out["contrib"] = timed(lambda: model.contributions(table), repeat)
        _, out["raw"] = timed(lambda: model.margin(table), repeat)
    _, out["explain"] = timed(lambda: scorer.score(table, explain=True), repeat)
    _, out["plain"] = timed(lambda: scorer.score(table, explain=False), repeat)
    # everything score(explain=True) does besides the model (encode + SHAP): the same contributions handed in
    model.contributions = lambda _table: contrib  # noqa: F821 - instance attribute, only for this measurement (used before the del)
    try:
        _, out["explain_without_model"] = timed(lambda: scorer.score(table, explain=True), repeat)
    finally:
        del model.contributions
    del contrib
    for key in ("contrib", "raw", "explain", "plain", "explain_without_model"):
        out[key]["leads_per_s"] = round(n / max(out[key]["seconds"], 1e-9))
    out["explain_over_contrib"] = round(out["explain"]["seconds"] / out["contrib"]["seconds"], 3)
    out["plain_over_raw"] = round(out["plain"]["seconds"] / out["raw"]["seconds"], 3)
    out["contrib_plus_rest_over_contrib"] = round(1 + out["explain_without_model"]["seconds"] / out["contrib"]["seconds"], 3)
    out["cpu_explain_over_contrib"] = round(out["explain"]["cpu_seconds"] / max(out["contrib"]["cpu_seconds"], 1e-9), 3)
    out["cpu_plain_over_raw"] = round(out["plain"]["cpu_seconds"] / max(out["raw"]["cpu_seconds"], 1e-9), 3)
    return out


def arrow_category_transform(self: Any, X: pd.DataFrame) -> pd.DataFrame:
    """A drop-in for RareCategoryEncoder.transform (features/categories.py) with the same output: values
    outside the kept categories (and missing ones) become '__other__'; codes come from Arrow's index_in
    and Categorical.from_codes instead of pandas' object-string indexer. Used only with --fast-encode, to
    measure what the proposed change would save; the project's code is not changed by it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = X.copy(deep=False)
    for col, cats in self.categories_.items():
        values = out[col].astype(str)
        array = pa.array(values.array) if not hasattr(values.array, "_pa_array") else values.array._pa_array
        codes = pc.fill_null(pc.index_in(array, value_set=pa.array(cats[:-1], type=array.type)), len(cats) - 1)
        out[col] = pd.Categorical.from_codes(np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int32), cats)
    return out


def use_fast_encode(enabled: bool) -> None:
    if enabled:
        from features.categories import RareCategoryEncoder

        RareCategoryEncoder.transform = arrow_category_transform  # type: ignore[method-assign]


def cmd_speed(args: argparse.Namespace) -> None:
    use_fast_encode(args.fast_encode)
    cfg = apply_sets(load_config(args.config), args.set)
    names = args.models.split(",")
    scorers, metrics = train(cfg, args.train_data, names)
    tables: dict[int, pd.DataFrame] = {}
    for name in names:
        scorer = scorers[name]
        key = id(scorer.builder)
        if key not in tables:
            t0 = time.perf_counter()
            tables.clear()
            tables[key] = score_table(scorer, args.score_data, pd.Timestamp(args.as_of), args.rows)
            print(json.dumps({"table_rows": len(tables[key]), "columns": tables[key].shape[1],
                              "build_seconds": round(time.perf_counter() - t0, 1)}), flush=True)
        result = measure(name, scorer, tables[key], args.repeat)
        print(json.dumps({**result, **metrics[name]}), flush=True)


def cmd_shapes(args: argparse.Namespace) -> None:
    use_fast_encode(args.fast_encode)
    table = None
    for spec in args.shape:
        cfg = apply_sets(load_config(args.config), args.set)
        for item in filter(None, spec.split(",")):
            key, value = item.split("=", 1)
            apply_sets(cfg, [f"models.lightgbm.{key}={value}"])
        scorers, metrics = train(cfg, args.train_data, ["lightgbm"])
        scorer = scorers["lightgbm"]
        if table is None:
            table = score_table(scorer, args.score_data, pd.Timestamp(args.as_of), args.rows)
        result = measure("lightgbm", scorer, table, args.repeat)
        print(json.dumps({"shape": spec, **result, **metrics["lightgbm"]}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("speed", "shapes"):
        p = sub.add_parser(name)
        p.add_argument("--train-data", required=True, help="world folder to train on (leads, events, outcomes)")
        p.add_argument("--score-data", required=True, help="world folder whose leads are scored")
        p.add_argument("--as-of", required=True, help="score the leads created before this date, as of it")
        p.add_argument("--config", default=str(REPO / "configs" / "default.yaml"))
        p.add_argument("--set", action="append", default=[], help="config override a.b.c=value (repeatable)")
        p.add_argument("--rows", type=int, default=None, help="score only the first N leads")
        p.add_argument("--repeat", type=int, default=1)
        p.add_argument("--fast-encode", action="store_true",
                       help="measure with the proposed Arrow-based RareCategoryEncoder.transform (same output)")
        if name == "speed":
            p.add_argument("--models", default="lightgbm,logreg")
        else:
            p.add_argument("--shape", action="append", required=True,
                           help="LightGBM parameters for one variant, e.g. max_depth=3,num_leaves=7")
    args = parser.parse_args()
    {"speed": cmd_speed, "shapes": cmd_shapes}[args.command](args)


if __name__ == "__main__":
    main()
