"""Where `leadscore train` spends time and memory, per stage (issue 4, 1M-lead training).

Runs the real `pipeline.stages.train.run_train` in-process with a reporter that records, for every step it
announces, the wall time and the peak resident memory (sampled every 0.2 s), plus the size of the
feature table. Usage:

  python benchmarks/profile_train.py --data DIR --config configs/default.yaml [--set models.lightgbm.search_budget=1]

(MLFLOW_TRACKING_URI should point at a scratch store.) Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from pipeline.config import load_config
from pipeline.console import Reporter
from pipeline.inputs import examples as examples_mod
from pipeline.stages.train import run_train


def load_average() -> str:
    """The 1-minute load average (the machine is shared: timings are only comparable at similar load)."""
    with open("/proc/loadavg") as fh:
        return fh.read().split()[0]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


class StageReporter(Reporter):
    """Records (step, seconds, peak RSS MB) for each step announced by the pipeline."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.stages: list[dict] = []
        self._name, self._t0, self._peak = "start", time.perf_counter(), rss_mb()
        self._stop = False
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop:
            self._peak = max(self._peak, rss_mb())
            time.sleep(0.2)

    def step(self, message: str) -> None:
        self._close()
        self._name = message[:70]

    def _close(self) -> None:
        now = time.perf_counter()
        self.stages.append({"stage": self._name, "seconds": round(now - self._t0, 1), "peak_rss_mb": round(self._peak),
                            "rss_after_mb": round(rss_mb())})
        self._t0, self._peak = now, rss_mb()

    def finish(self) -> list[dict]:
        self._close()
        self._stop = True
        return self.stages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--until")
    args = ap.parse_args()
    from bench_models import with_overrides

    config = with_overrides(args.config, args.set, Path(tempfile.mkdtemp(prefix="leadscore-prof-")))
    cfg = load_config(config)
    table_info: dict = {}
    original = examples_mod._snapshot_examples

    def spy(*a, **k):  # the feature table's size, measured where it is built
        ex = original(*a, **k)
        table_info.update(rows=len(ex.table), columns=ex.table.shape[1],
                          table_mb=round(ex.table.memory_usage(deep=True).sum() / 2**20),
                          dtypes={str(t): int(n) for t, n in ex.table.dtypes.value_counts().items()})
        return ex

    examples_mod._snapshot_examples = spy
    load_start = load_average()
    rep = StageReporter()
    import pandas as pd

    res = run_train(cfg, args.data, until=pd.Timestamp(args.until) if args.until else None, reporter=rep)
    stages = rep.finish()
    print(json.dumps({"stages": stages, "table": table_info, "rows": res.examples.counts(),
                      "seconds": round(sum(s["seconds"] for s in stages), 1),
                      "peak_rss_mb": max(s["peak_rss_mb"] for s in stages), "load_average": [load_start, load_average()],
                      "test_roc_auc": {n: round(m.metrics["test_roc_auc"], 4) for n, m in res.models.items()}}))


if __name__ == "__main__":
    main()
