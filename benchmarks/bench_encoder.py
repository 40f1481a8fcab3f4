"""RareCategoryEncoder.transform against the plain pandas definition it replaced (issue 6: scoring
without reasons was 2-3x plain predict because of this step).

    .venv/bin/python benchmarks/bench_encoder.py [--rows 1000000] [--columns 12]

Half the columns are object dtype, half pandas' Arrow-backed `str`; 40 distinct values plus missing.
Prints seconds for both and checks that the codes are identical.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from features.categories import RareCategoryEncoder  # noqa: E402
from tests.features.test_categories import pandas_reference_transform  # noqa: E402 - the definition the test checks against


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=12)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pool = np.array([f"value_{i}" for i in range(40)] + [None], dtype=object)
    X = pd.DataFrame({f"c{j}": pd.Series(rng.choice(pool, size=args.rows), dtype=object if j % 2 else "str")
                      for j in range(args.columns)})
    enc = RareCategoryEncoder(list(X.columns), 0.02, 30).fit(X)
    t0 = time.perf_counter()
    old = pandas_reference_transform(enc, X)
    t1 = time.perf_counter()
    new = enc.transform(X)
    t2 = time.perf_counter()
    same = all(old[c].cat.codes.equals(new[c].cat.codes) for c in X.columns)
    print(json.dumps({"rows": args.rows, "columns": args.columns, "pandas_seconds": round(t1 - t0, 2),
                      "arrow_seconds": round(t2 - t1, 2), "identical_codes": same, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
