"""Benchmark the simulated lead world: time, table sizes, peak memory and (optionally) Parquet sizes.

    python benchmarks/bench_generate.py --leads 100000 [--seed 42] [--out DIR] [--auc]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.sampleworld import World, WorldSpec, simulate_world  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def oracle_check(world: World, spec: WorldSpec) -> None:
    """Oracle ROC AUC of p_true vs conversion within the horizon, and calibration (fully observed rows).

    Standard errors are clustered by lead (a lead has up to 26 weekly rows).
    """
    end = pd.Timestamp(spec.start) + pd.Timedelta(days=spec.days)
    horizon = pd.Timedelta(days=spec.horizon_days)
    truth = world.truth[world.truth["as_of"] + horizon <= end]
    conv = world.outcomes.set_index("lead_id")["converted_at"]
    created = world.leads.set_index("lead_id")["created_at"]
    converted_at = conv.reindex(truth["lead_id"]).to_numpy()
    as_of = truth["as_of"].to_numpy()
    y = (converted_at >= as_of) & (converted_at < as_of + horizon.to_timedelta64())
    p = truth["p_true"].to_numpy()
    ranks = pd.Series(p).rank().to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    auc = (ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    print(f"  oracle AUC {auc:.4f} over {len(y):,} fully observed truth rows ({n1:,} positives)")
    lead = pd.factorize(truth["lead_id"])[0]
    age = (as_of - created.reindex(truth["lead_id"]).to_numpy()) / np.timedelta64(1, "D")
    groups = {"all rows": np.ones(len(y), dtype=bool)}
    for lo, hi in ((0, 7), (7, 14), (14, 30), (30, 90), (90, spec.max_lead_age_days + 1)):
        groups[f"age [{lo},{hi}) d"] = (age >= lo) & (age < hi)
    decile = pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False).to_numpy()
    for lo, hi in ((0, 5), (5, 8), (8, 9), (9, 10)):
        label = f"p_true deciles {lo + 1}-{hi}" if hi - lo > 1 else f"p_true decile {hi}"
        groups[label] = (decile >= lo) & (decile < hi)
    print(f"  {'calibration':22s} {'rows':>11s} {'mean p_true':>12s} {'realised':>9s} {'diff/SE':>8s}")
    for name, mask in groups.items():
        resid = y[mask] - p[mask]
        se = np.sqrt((np.bincount(lead[mask], weights=resid) ** 2).sum()) / mask.sum()
        print(f"  {name:22s} {mask.sum():>11,} {p[mask].mean():>12.4f} {y[mask].mean():>9.4f} "
              f"{resid.mean() / se:>8.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=None, help="write the four tables as Parquet (zstd) here")
    ap.add_argument("--auc", action="store_true", help="also check p_true: oracle AUC and calibration")
    args = ap.parse_args(argv)

    spec = WorldSpec(n_leads=args.leads, seed=args.seed)
    print(f"spec: {spec}")
    t0 = time.perf_counter()
    world = simulate_world(spec)
    elapsed = time.perf_counter() - t0
    print(f"simulate_world: {elapsed:.1f} s; peak RSS so far {peak_rss_mib():,.0f} MiB")
    tables = {"leads": world.leads, "events": world.events, "outcomes": world.outcomes, "truth": world.truth}
    for name, frame in tables.items():
        mem = frame.memory_usage(deep=True).sum() / 2**20
        print(f"  {name:9s} {len(frame):>12,} rows  {mem:>9,.0f} MiB in memory")
    junk = world.truth.drop_duplicates("lead_id")["is_junk"].mean() if len(world.truth) else float("nan")
    converted = world.outcomes["converted_at"].notna().mean()
    print(f"  events per lead {len(world.events) / spec.n_leads:.1f}; converted by world end {converted:.3f}; "
          f"junk share among truth leads {junk:.3f}")
    if args.auc:
        t1 = time.perf_counter()
        oracle_check(world, spec)
        print(f"  (checks took {time.perf_counter() - t1:.1f} s)")
    if args.out is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        args.out.mkdir(parents=True, exist_ok=True)
        t1 = time.perf_counter()
        total = 0
        for name, frame in tables.items():
            path = args.out / f"{name}.parquet"
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")
            size = os.path.getsize(path)
            total += size
            print(f"  {path}: {size / 2**20:,.1f} MiB")
        print(f"parquet write: {time.perf_counter() - t1:.1f} s, {total / 2**20:,.1f} MiB total")
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
