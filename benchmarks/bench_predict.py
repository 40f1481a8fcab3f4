"""Batch scoring end to end: `leadscore predict` on 1M and 4M leads, peak memory and leads per second.

The 4M-lead input is the 1M-lead world copied 4 times with distinct lead ids (the generator holds a
world in memory, so it is not used for 4M). Each run is a fresh `leadscore predict` subprocess measured
with `/usr/bin/time -v` (peak RSS of the process).

    .venv/bin/leadscore generate --out /tmp/feat_world20k --leads 20000 --seed 42
    .venv/bin/leadscore generate --out /tmp/feat_world1m --leads 1000000 --seed 42
    MLFLOW_TRACKING_URI=sqlite:////tmp/bench_predict/mlflow.db .venv/bin/leadscore retrain --data /tmp/feat_world20k
    .venv/bin/python benchmarks/bench_predict.py --world /tmp/feat_world1m --copies 1,4 \
        --store /tmp/bench_predict/mlflow.db --as-of 2026-07-01
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]


def replicate(src: Path, dst: Path, copies: int) -> None:
    """`copies` copies of a world's leads and events, lead ids suffixed '-k', streamed row group by row group."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("leads", "events"):
        target = dst / f"{name}.parquet"
        if target.exists():
            continue
        source = pq.ParquetFile(src / f"{name}.parquet")
        with pq.ParquetWriter(target, source.schema_arrow, compression="zstd") as writer:
            for k in range(copies):
                for batch in source.iter_batches(batch_size=1_000_000):
                    table = pa.Table.from_batches([batch])
                    ids = table.column("lead_id").cast(pa.string())
                    table = table.set_column(table.schema.get_field_index("lead_id"), "lead_id",
                                             pc.binary_join_element_wise(ids, pa.scalar(f"-{k}"), ""))
                    writer.write_table(table.cast(source.schema_arrow))


def run_predict(data: Path, store: Path, as_of: str, out: Path, extra: list[str]) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
    cmd = ["/usr/bin/time", "-v", str(REPO / ".venv/bin/leadscore"), "predict", "--leads", str(data / "leads.parquet"),
           "--events", str(data / "events.parquet"), "--as-of", as_of, "--output", str(out), "--json", "--quiet",
           "--config", str(REPO / "configs/default.yaml"), *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=store.parent)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"rows": summary["rows"], "chunks": summary["chunks"], "wall_s": round(wall, 1),
            "leads_per_s": round(summary["rows"] / wall), "peak_rss_mib": round(peak_kib / 1024),
            "load_avg": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=Path, required=True, help="a generated world folder (1M leads)")
    parser.add_argument("--copies", default="1,4", help="input sizes as multiples of the world")
    parser.add_argument("--store", type=Path, required=True, help="mlflow.db holding lead-scorer@champion")
    parser.add_argument("--as-of", default="2026-07-01")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_predict"))
    args = parser.parse_args()
    results = {}
    for copies in [int(c) for c in args.copies.split(",")]:
        data = args.world if copies == 1 else args.work / f"world_x{copies}"
        if copies > 1:
            replicate(args.world, data, copies)
        results[copies] = run_predict(data, args.store, args.as_of, args.work / f"scores_x{copies}.parquet", [])
        print(copies, results[copies], flush=True)
    if 1 in results and len(results) > 1:
        for copies, r in results.items():
            print(f"x{copies}: peak RSS {r['peak_rss_mib']} MiB = {r['peak_rss_mib'] / results[1]['peak_rss_mib']:.2f}x the 1x run")


if __name__ == "__main__":
    main()
