"""Drive the batch steps of pipeline/scoring/extras.build_steps over a real `leadscore predict` output, as the
engines will once they call them: the scores split into chunks by a hash of lead_id, each chunk with its
own input leads. For benchmarks/RESULTS_beyond.md (the commands are there).

    python benchmarks/beyond_steps.py CONFIG LEADS SCORES OUT_FOLDER [--history DIR] [--format crm] [--chunks N]
"""
from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import load_config
from pipeline.inputs.io import read_table
from pipeline.scoring.extras import build_steps
from pipeline.scoring.steps import Batch


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("config", "leads", "scores", "out"):
        parser.add_argument(name)
    parser.add_argument("--history")
    parser.add_argument("--format", default=None)
    parser.add_argument("--chunks", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config(args.config)
    scores, leads = pd.read_parquet(args.scores), read_table(args.leads, ["lead_id"])
    leads["lead_id"] = leads["lead_id"].astype(str)
    output = Path(args.out) / Path(args.scores).name
    batch = Batch(output=output, as_of=pd.Timestamp(scores["as_of"].iloc[0]), scorer=None,
                  sources={"leads": args.leads}, model_version=str(scores["model_version"].iloc[0]))
    started = time.perf_counter()
    steps = build_steps(cfg, history=args.history, output_format=args.format)
    for step in steps:
        step.start(batch)
    chunk = pd.util.hash_pandas_object(scores["lead_id"].astype(str), index=False).to_numpy() % args.chunks
    parts = []
    for c in range(args.chunks):
        part = scores.loc[chunk == c].reset_index(drop=True)
        part_leads = leads.loc[leads["lead_id"].isin(part["lead_id"])]
        for step in steps:
            part = step.part(part, part_leads)
        parts.append(part)
    summary: dict = {}
    for step in steps:
        summary |= step.finish(batch)
    pd.concat(parts, ignore_index=True).to_parquet(output)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(summary, default=lambda v: int(v) if isinstance(v, np.integer) else str(v)))


if __name__ == "__main__":
    main()
