"""Junk detection on the sample world: precision, recall and confusion of `junk_flag`, rule by rule.

    python benchmarks/bench_junk.py [--leads 100000] [--seed 42] [--data DIR]

`junk_flag` is what LeadFeatureBuilder writes (the configured builder of `leadscore features`): the profile
rules of features/quality.py plus the bot-burst rule that needs the events. Ground truth is the world's
`truth` table (`is_junk` per lead, `truth.drop_duplicates('lead_id')`). Leads without a truth row are the
ones that converted before their first weekly snapshot; junk never converts in the generator, so they are
counted as not junk (the script checks that every one of them converted).

Two points in time:
* "world end": every lead as of the end of the data (all its events known);
* "first snapshot": every lead as of the first weekly snapshot after its creation (its first truth row, or
  created_at + 7 days for the early converters), i.e. the earliest moment a weekly scoring run sees it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from features.quality import WEAK_SIGNALS, burst_size  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.inputs.examples import make_builder  # noqa: E402


def load_world(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if args.data:
        read = lambda name: pd.read_parquet(args.data / f"{name}.parquet")  # noqa: E731
        return read("leads"), read("events"), read("outcomes"), read("truth")
    from pipeline.sampleworld import WorldSpec, simulate_world

    world = simulate_world(WorldSpec(n_leads=args.leads, seed=args.seed))
    return world.leads, world.events, world.outcomes, world.truth


def rules(table: pd.DataFrame, bot_burst_events: int) -> dict[str, np.ndarray]:
    """The rules junk_rule combines, one boolean column each (features/quality.py)."""
    f = {c: table[c].to_numpy() > 0.5 for c in (*WEAK_SIGNALS, "disposable_email", "test_entry")}
    weak = np.column_stack([f[c] for c in WEAK_SIGNALS]).any(axis=1)
    burst = burst_size(table) >= bot_burst_events
    return {
        "disposable email": f["disposable_email"],
        "test entry": f["test_entry"],
        "fake-looking name + (free mail or invalid phone)": f["gibberish_name"] & (f["invalid_phone"] | f["free_mail"]),
        f"bot burst (>= {bot_burst_events} within an hour) + weak signal": burst & weak,
    }


def report(name: str, table: pd.DataFrame, is_junk: np.ndarray, bot_burst_events: int) -> None:
    flagged = table["junk_flag"].to_numpy(dtype=bool)
    tp = int((flagged & is_junk).sum())
    fp = int((flagged & ~is_junk).sum())
    fn = int((~flagged & is_junk).sum())
    tn = int((~flagged & ~is_junk).sum())
    print(f"\n{name}: {len(table):,} leads, {int(is_junk.sum()):,} junk")
    print(f"  precision {tp / max(tp + fp, 1):.4f}  recall {tp / max(tp + fn, 1):.4f}")
    print(f"  confusion: TP {tp:,}  FP {fp:,}  FN {fn:,}  TN {tn:,}")
    parts = rules(table, bot_burst_events)
    stack = np.column_stack(list(parts.values()))
    assert np.array_equal(stack.any(axis=1), flagged), "rule breakdown does not add up to junk_flag"
    print(f"  {'rule':58s} {'flags':>7s} {'junk':>7s} {'not junk':>9s} {'only this rule':>15s}")
    for i, (rule, hit) in enumerate(parts.items()):
        only = hit & ~np.delete(stack, i, axis=1).any(axis=1)
        print(f"  {rule:58s} {int(hit.sum()):>7,} {int((hit & is_junk).sum()):>7,} {int((hit & ~is_junk).sum()):>9,} "
              f"{int((only & is_junk).sum()):>15,}")
    profile = stack[:, :3].any(axis=1)
    ptp = int((profile & is_junk).sum())
    print(f"  profile rules alone: precision {ptp / max(int(profile.sum()), 1):.4f}  recall {ptp / max(int(is_junk.sum()), 1):.4f}")
    size = burst_size(table)
    weak = np.column_stack([table[c].to_numpy() > 0.5 for c in WEAK_SIGNALS]).any(axis=1)
    sweep = []
    for threshold in (5, 8, 10, 15, 20, 25):
        b = size >= threshold
        sweep.append(f">={threshold}: {int((b & is_junk).sum())}/{int((b & ~is_junk).sum())}"
                     f" ({int((b & weak & ~is_junk).sum())} with a weak signal)")
    print("  burst threshold sweep, junk/not-junk leads with a burst: " + "; ".join(sweep))
    missed = table.loc[~flagged & is_junk]
    if len(missed):
        cols = [c for c in ("free_mail", "invalid_phone", "gibberish_name", "events_first_hour") if c in missed]
        print(f"  missed junk ({len(missed)}), mean of: " + ", ".join(f"{c} {missed[c].mean():.2f}" for c in cols))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", type=Path, default=None, help="a generated world instead of simulating one")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    leads, events, outcomes, truth = load_world(args)
    print(f"world: {len(leads):,} leads, {len(events):,} events ({time.perf_counter() - t0:.1f} s)")
    first_truth = truth.sort_values("as_of").drop_duplicates("lead_id")
    labels = leads[["lead_id", "created_at"]].merge(first_truth[["lead_id", "as_of", "is_junk"]], on="lead_id", how="left")
    no_truth = labels["is_junk"].isna().to_numpy()
    converted = leads[["lead_id"]].merge(outcomes, on="lead_id", how="left")["converted_at"].notna().to_numpy()
    print(f"leads without a truth row: {int(no_truth.sum()):,}, all converted before their first snapshot: "
          f"{bool(converted[no_truth].all())} -> counted as not junk")
    is_junk = labels["is_junk"].fillna(False).astype(bool).to_numpy()

    cfg = Config()
    burst_events = cfg.features.junk.bot_burst_events
    builder = make_builder(cfg, use_events=True).fit(leads, events)
    end = max(events["timestamp"].max(), leads["created_at"].max()).ceil("D")
    t0 = time.perf_counter()
    at_end = builder.transform(leads, events, end)
    print(f"builder.transform as of {end.date()}: {time.perf_counter() - t0:.1f} s")
    report(f"world end ({end.date()})", at_end, is_junk, burst_events)

    # early converters have no truth row: their first weekly snapshot date on the same grid (start + 7k days)
    start = truth["as_of"].min() - pd.Timedelta(days=7 * int((truth["as_of"].min() - leads["created_at"].min()).days // 7 + 1))
    weeks = np.floor((labels["created_at"] - start) / pd.Timedelta(days=7)).astype(int) + 1
    early = labels["as_of"].fillna(start + pd.to_timedelta(7 * weeks, unit="D")).astype("datetime64[ns]")
    t0 = time.perf_counter()
    at_first = builder.transform(leads, events, early)
    print(f"\nbuilder.transform as of each lead's first snapshot: {time.perf_counter() - t0:.1f} s")
    report("first snapshot", at_first, is_junk, burst_events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
