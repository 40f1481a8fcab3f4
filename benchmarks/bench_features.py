"""Benchmark the feature builders against polars and DuckDB: time and peak memory, one date, many leads.

    python benchmarks/bench_features.py --data DIR [--as-of 2026-07-01] [--contenders builder,engagement,polars,duckdb]
                                        [--repeat 1] [--check 5000]

DIR is a generated world (`leadscore generate --out DIR --leads 1000000`). Every contender runs in a fresh
subprocess (`--child NAME`), so its peak RSS (`ru_maxrss`) is its own: reading the Parquet files, computing,
and holding the result. Timings exclude the Python start-up and imports.

Contenders
* builder     LeadFeatureBuilder.fit + transform: profile, title, quality, ICP, BANT and engagement features
              and junk_flag for every lead (what `leadscore features` computes). Loading = pipeline.inputs.io.read_table.
* engagement  EngagementFeatures.fit + transform alone, then a second transform of the same frame ("warm":
              the cached EventIndex, e.g. another half-life in training).
* polars      the same engagement features as a polars lazy query: one group_by(lead) with conditional
              aggregations, group_by(lead, day) and group_by(lead, hour) for the per-day / per-hour figures,
              joined onto the leads.
* duckdb      the same as SQL (FILTER aggregates, the same two extra group-bys) on tables loaded from Parquet.
* polars-core, duckdb-core
              the same without the per-day / per-hour figures and the first-hour / first-day bursts (122 of the
              127 engagement features: the windowed per-type counts, totals, recency, trend and decayed counts).
* pandas      a plain pandas groupby formulation of the windowed per-type counts, recency and decayed counts
              (a subset: no per-day / per-hour figures), for reference.

`--check N` makes every contender write its features for N sampled leads; the parent then compares each with
`engagement` column by column (the equivalent feature set is identical by construction; the check proves it).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WINDOWS = (7, 30, 90)
HALF_LIFE = 14.0
HIGH_INTENT = ("pricing_page_view", "demo_request", "free_trial_signup", "contact_sales")
NEGATIVE = ("unsubscribe", "careers_page_view", "email_bounce")
MIN_TYPE_COUNT = 20
CONTENDERS = ("builder", "engagement", "polars", "duckdb", "polars-core", "duckdb-core", "pandas")


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Clock:
    """Wall and CPU time of a block: `with Clock() as c: ...; c.wall, c.cpu`."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), cpu_s()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, cpu_s() - self._cpu


# ----------------------------------------------------------------------------------------------------
# Contenders (each runs in its own process)
# ----------------------------------------------------------------------------------------------------
def run_builder(data: Path, as_of, sample):  # noqa: ANN001, ANN201
    import pandas as pd

    from pipeline.config import Config
    from pipeline.inputs.examples import make_builder
    from pipeline.inputs.io import read_table

    t0 = time.perf_counter()
    leads = read_table(data / "leads.parquet")
    events = read_table(data / "events.parquet")
    load = time.perf_counter() - t0
    rss_load = rss_mib()
    t0 = time.perf_counter()
    builder = make_builder(Config(), use_events=True).fit(leads, events)
    fit = time.perf_counter() - t0
    with Clock() as c:
        table = builder.transform(leads, events, pd.Timestamp(as_of))
    result = {"load_s": load, "fit_s": fit, "compute_s": c.wall, "compute_cpu_s": c.cpu, "rss_after_load_mib": rss_load,
              "rows": len(table), "columns": table.shape[1], "events": len(events),
              "junk_flagged": int(table["junk_flag"].sum())}
    return result, _sample(table, sample)


def run_engagement(data: Path, as_of, sample):  # noqa: ANN001, ANN201
    import pandas as pd

    from features.engagement import EngagementFeatures
    from pipeline.inputs.io import read_table

    t0 = time.perf_counter()
    leads = read_table(data / "leads.parquet")[["lead_id"]]
    events = read_table(data / "events.parquet")
    load = time.perf_counter() - t0
    rss_load = rss_mib()
    t0 = time.perf_counter()
    eng = EngagementFeatures(windows_days=WINDOWS, half_life_days=HALF_LIFE, high_intent=HIGH_INTENT,
                             negative=NEGATIVE, min_type_count=MIN_TYPE_COUNT).fit(events)
    fit = time.perf_counter() - t0
    with Clock() as c:
        table = eng.transform(events, leads["lead_id"], pd.Timestamp(as_of))
    compute, compute_cpu = c.wall, c.cpu
    eng.set_params(half_life_days=HALF_LIFE * 2)  # a second transform of the same frame: the index is cached
    t0 = time.perf_counter()
    eng.transform(events, leads["lead_id"], pd.Timestamp(as_of))
    warm = time.perf_counter() - t0
    table.insert(0, "lead_id", leads["lead_id"].to_numpy())
    result = {"load_s": load, "fit_s": fit, "compute_s": compute, "compute_cpu_s": compute_cpu, "warm_compute_s": warm,
              "rss_after_load_mib": rss_load,
              "rows": len(table), "columns": table.shape[1] - 1, "events": len(events)}
    return result, _sample(table, sample)


def _types(counts: dict[str, int]) -> list[str]:
    return sorted(t for t, c in counts.items() if c >= MIN_TYPE_COUNT)


def run_polars(data: Path, as_of, sample, core: bool = False):  # noqa: ANN001, ANN201
    """Two stages: group_by(lead, type) with the window counts and decayed sums, then one column block per type
    (lazy left joins: 3-4x faster than DataFrame.pivot here) and the category totals per lead;
    group_by(lead, day) and (lead, hour) for the per-day / per-hour figures and a join of each lead's first
    timestamp for the first-hour / first-day bursts (not in the `core` variant)."""
    import polars as pl

    t0 = time.perf_counter()
    leads = pl.read_parquet(data / "leads.parquet", columns=["lead_id"])
    events = pl.read_parquet(data / "events.parquet", columns=["lead_id", "timestamp", "event_type"])
    load = time.perf_counter() - t0
    rss_load = rss_mib()
    t0 = time.perf_counter()
    counts = dict(events.group_by("event_type").len().iter_rows())  # "fit": which types get own columns
    types = _types(counts)
    fit = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), cpu_s()
    T = pl.lit(as_of).str.to_datetime(time_unit="ns")
    day_ns = 86_400 * 10**9
    ts, age = pl.col("timestamp"), pl.col("age")
    e = (events.lazy().filter(ts < T)
         .with_columns(pl.col("event_type").cast(pl.Categorical),
                       age=(T - ts).dt.total_nanoseconds().cast(pl.Float64) / day_ns))
    labels = [*map(str, WINDOWS), "all"]
    # stage 1: per (lead, type)
    per_type = e.group_by("lead_id", "event_type").agg(
        *[(age <= w).sum().cast(pl.Int64).alias(f"n_{w}") for w in WINDOWS],
        pl.len().cast(pl.Int64).alias("n_all"),
        (age <= 37).sum().cast(pl.Int64).alias("n_37"),
        (2.0 ** (-age / HALF_LIFE)).sum().alias("decayed"),
        age.min().alias("last"), age.max().alias("first_age"), ts.min().alias("first_ts"),
    )
    # per (lead, day) and (lead, hour)
    daily = (e.group_by("lead_id", ts.dt.truncate("1d").alias("d"))
             .agg(pl.len().alias("c"), (age.min() <= 30).alias("in30"))
             .group_by("lead_id").agg(pl.col("c").max().alias("max_events_one_day"),
                                      pl.col("in30").sum().alias("active_days_30")))
    hourly = (e.group_by("lead_id", ts.dt.truncate("1h").alias("h")).agg(pl.len().alias("c"))
              .group_by("lead_id").agg(pl.col("c").max().alias("max_events_one_hour")))
    if core:
        per_type_df = per_type.collect()
    else:
        per_type_df, daily_df, hourly_df = pl.collect_all([per_type, daily, hourly])
    # stage 2: types into columns, category totals per lead
    et = pl.col("event_type")
    hi, neg = et.is_in(list(HIGH_INTENT)), et.is_in(list(NEGATIVE))
    totals = per_type_df.lazy().group_by("lead_id").agg(
        *[pl.col(f"n_{label}").sum().alias(f"n_events_{label}") for label in labels],
        *[pl.col(f"n_{label}").filter(hi).sum().alias(f"n_high_intent_{label}") for label in labels],
        pl.col("n_all").filter(neg).sum().alias("n_negative_all"),
        pl.col("last").min().alias("days_since_last_event"),
        pl.col("last").filter(hi).min().alias("days_since_last_high_intent"),
        pl.col("first_age").max().alias("days_since_first_event"),
        pl.col("first_ts").min().alias("first_ts"),
        pl.col("n_7").sum().alias("_n7"), pl.col("n_37").sum().alias("_n37_incl"),
        pl.col("decayed").sum().alias("decayed_events"),
        pl.col("decayed").filter(hi).sum().alias("decayed_high_intent"),
        pl.col("n_all").filter(et == "email_open").sum().alias("_opens"),
        pl.col("n_all").filter(et == "email_click").sum().alias("_clicks"),
        (pl.col("n_all").filter(et == "unsubscribe").sum() > 0).cast(pl.Float64).alias("unsubscribed"),
    )
    base = per_type_df.lazy()
    wide = leads.lazy()
    for t in types:
        block = base.filter(et == t).select("lead_id", *[pl.col(f"n_{x}").alias(f"n_{t}_{x}") for x in labels],
                                             pl.col("decayed").alias(f"decayed_{t}"))
        wide = wide.join(block, on="lead_id", how="left")
    totals_df, wide_df = pl.collect_all([totals, wide])
    out = wide_df.join(totals_df.drop("first_ts"), on="lead_id", how="left")
    if not core:
        firsts = (e.join(totals_df.lazy().select("lead_id", "first_ts"), on="lead_id")
                  .group_by("lead_id").agg((ts < pl.col("first_ts") + pl.duration(hours=1)).sum().alias("events_first_hour"),
                                           (ts < pl.col("first_ts") + pl.duration(days=1)).sum().alias("events_first_day"))
                  .collect())
        out = (out.join(firsts, on="lead_id", how="left").join(daily_df, on="lead_id", how="left")
               .join(hourly_df, on="lead_id", how="left"))
    zero_fill = [c for c in out.columns if c != "lead_id" and not c.startswith("days_since")]
    table = (out.with_columns([pl.col(c).fill_null(0) for c in zero_fill])
             .with_columns(trend_7_vs_30=(pl.col("_n7") + 1.0) / ((pl.col("_n37_incl") - pl.col("_n7")) * 7.0 / 30.0 + 1.0),
                           email_click_to_open=pl.when(pl.col("_opens") > 0)
                           .then(pl.col("_clicks") / pl.col("_opens")).otherwise(None))
             .drop("_n7", "_n37_incl", "_opens", "_clicks"))
    compute, compute_cpu = time.perf_counter() - t0, cpu_s() - c0
    result = {"load_s": load, "fit_s": fit, "compute_s": compute, "compute_cpu_s": compute_cpu, "rss_after_load_mib": rss_load,
              "rows": table.height, "columns": table.width - 1, "events": events.height}
    return result, (_sample(table.to_pandas(), sample) if sample else None)


def run_duckdb(data: Path, as_of, sample, core: bool = False):  # noqa: ANN001, ANN201
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE leads AS SELECT lead_id FROM read_parquet('{data / 'leads.parquet'}')")
    con.execute(f"CREATE TABLE events AS SELECT lead_id, timestamp AS ts, event_type "
                f"FROM read_parquet('{data / 'events.parquet'}')")
    load = time.perf_counter() - t0
    rss_load = rss_mib()
    t0 = time.perf_counter()
    types = _types(dict(con.execute("SELECT event_type, count(*) FROM events GROUP BY 1").fetchall()))
    fit = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), cpu_s()
    T = f"TIMESTAMP '{as_of}'"
    q = lambda s: "'" + s.replace("'", "''") + "'"  # noqa: E731
    hi = "event_type IN (" + ", ".join(map(q, HIGH_INTENT)) + ")"
    neg = "event_type IN (" + ", ".join(map(q, NEGATIVE)) + ")"
    labels = [*map(str, WINDOWS), "all"]
    cols = []
    for t in types:
        for w, label in zip([*WINDOWS, None], labels):
            cond = f"event_type = {q(t)}" + ("" if w is None else f" AND age <= {w}")
            cols.append(f"count(*) FILTER (WHERE {cond}) AS \"n_{t}_{label}\"")
    for w, label in zip([*WINDOWS, None], labels):
        cols.append("count(*)" + ("" if w is None else f" FILTER (WHERE age <= {w})") + f" AS n_events_{label}")
        cols.append(f"count(*) FILTER (WHERE {hi}" + ("" if w is None else f" AND age <= {w}") + f") AS n_high_intent_{label}")
    dec = f"pow(2.0, -age / {HALF_LIFE})"
    cols += [
        f"count(*) FILTER (WHERE {neg}) AS n_negative_all",
        "min(age) AS days_since_last_event",
        f"min(age) FILTER (WHERE {hi}) AS days_since_last_high_intent",
        "max(age) AS days_since_first_event",
        "count(*) FILTER (WHERE age <= 7) AS n7",
        "count(*) FILTER (WHERE age > 7 AND age <= 37) AS n37",
        f"sum({dec}) AS decayed_events",
        f"coalesce(sum({dec}) FILTER (WHERE {hi}), 0) AS decayed_high_intent",
        *[f"coalesce(sum({dec}) FILTER (WHERE event_type = {q(t)}), 0) AS \"decayed_{t}\"" for t in types],
        "count(*) FILTER (WHERE event_type = 'email_open') AS opens",
        "count(*) FILTER (WHERE event_type = 'email_click') AS clicks",
        "CAST(bool_or(event_type = 'unsubscribe') AS DOUBLE) AS unsubscribed",
        "min(ts) AS first_ts",
    ]
    sql = f"""
    WITH e AS (
        SELECT lead_id, event_type, ts, (epoch_ns({T}) - epoch_ns(ts)) / 86400e9 AS age FROM events WHERE ts < {T}
    ),
    per_lead AS (SELECT lead_id, {', '.join(cols)} FROM e GROUP BY lead_id),
    firsts AS (
        SELECT e.lead_id,
               count(*) FILTER (WHERE e.ts < p.first_ts + INTERVAL 1 HOUR) AS events_first_hour,
               count(*) FILTER (WHERE e.ts < p.first_ts + INTERVAL 1 DAY) AS events_first_day
        FROM e JOIN per_lead p USING (lead_id) GROUP BY e.lead_id
    ),
    daily AS (
        SELECT lead_id, max(c) AS max_events_one_day, count(*) FILTER (WHERE in30) AS active_days_30
        FROM (SELECT lead_id, date_trunc('day', ts) AS d, count(*) AS c, min(age) <= 30 AS in30 FROM e GROUP BY 1, 2)
        GROUP BY lead_id
    ),
    hourly AS (
        SELECT lead_id, max(c) AS max_events_one_hour
        FROM (SELECT lead_id, date_trunc('hour', ts) AS h, count(*) AS c FROM e GROUP BY 1, 2) GROUP BY lead_id
    )
    SELECT l.lead_id, p.* EXCLUDE (lead_id, n7, n37, opens, clicks, first_ts),
           (coalesce(p.n7, 0) + 1.0) / (coalesce(p.n37, 0) * 7.0 / 30.0 + 1.0) AS trend_7_vs_30,
           CASE WHEN p.opens > 0 THEN p.clicks / p.opens END AS email_click_to_open
           {"" if core else ", f.events_first_hour, f.events_first_day, d.max_events_one_day, d.active_days_30, h.max_events_one_hour"}
    FROM leads l LEFT JOIN per_lead p USING (lead_id)
    {"" if core else "LEFT JOIN firsts f USING (lead_id) LEFT JOIN daily d USING (lead_id) LEFT JOIN hourly h USING (lead_id)"}
    """
    table = con.execute(sql).to_arrow_table()
    compute, compute_cpu = time.perf_counter() - t0, cpu_s() - c0
    result = {"load_s": load, "fit_s": fit, "compute_s": compute, "compute_cpu_s": compute_cpu, "rss_after_load_mib": rss_load,
              "rows": table.num_rows, "columns": table.num_columns - 1}
    result["events"] = con.execute("SELECT count(*) FROM events").fetchone()[0]
    if not sample:
        return result, None
    frame = table.to_pandas()
    fill = [c for c in frame.columns if c != "lead_id" and not c.startswith("days_since") and c != "email_click_to_open"]
    frame[fill] = frame[fill].fillna(0)
    return result, _sample(frame, sample)


def run_pandas(data: Path, as_of, sample):  # noqa: ANN001, ANN201
    import numpy as np
    import pandas as pd

    from pipeline.inputs.io import read_table

    t0 = time.perf_counter()
    leads = read_table(data / "leads.parquet")[["lead_id"]]
    events = read_table(data / "events.parquet")[["lead_id", "timestamp", "event_type"]]
    load = time.perf_counter() - t0
    rss_load = rss_mib()
    t0 = time.perf_counter()
    types = _types(events["event_type"].value_counts().to_dict())
    fit = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu_s()
    T = pd.Timestamp(as_of)
    e = events[events["timestamp"] < T]
    age = (T - e["timestamp"]).dt.total_seconds().to_numpy() / 86_400
    lead = pd.Categorical(e["lead_id"], categories=leads["lead_id"])
    typ = pd.Categorical(e["event_type"], categories=types)
    frame = pd.DataFrame({"lead": lead, "type": typ, "age": age, "w": np.exp2(-age / HALF_LIFE)})
    parts = []
    for w, label in zip([*WINDOWS, None], [*map(str, WINDOWS), "all"]):
        sub = frame if w is None else frame[frame["age"] <= w]
        counts = sub.groupby(["lead", "type"], observed=False).size().unstack(fill_value=0)
        counts.columns = [f"n_{t}_{label}" for t in counts.columns]
        parts.append(counts)
    decayed = frame.groupby(["lead", "type"], observed=False)["w"].sum().unstack(fill_value=0.0)
    decayed.columns = [f"decayed_{t}" for t in decayed.columns]
    g = frame.groupby("lead", observed=False)
    rec = pd.DataFrame({"days_since_last_event": g["age"].min(), "days_since_first_event": g["age"].max(),
                        "decayed_events": g["w"].sum()})
    out = pd.concat([*parts, decayed, rec], axis=1).reset_index(names="lead_id")
    compute, compute_cpu = time.perf_counter() - t0, cpu_s() - c0
    result = {"load_s": load, "fit_s": fit, "compute_s": compute, "compute_cpu_s": compute_cpu, "rss_after_load_mib": rss_load,
              "rows": len(out), "columns": out.shape[1] - 1, "events": len(events),
              "note": "subset: per-type windowed counts, per-type decayed counts, first/last recency"}
    out["lead_id"] = out["lead_id"].astype(str)
    return result, _sample(out, sample)


def _sample(table, n):  # noqa: ANN001, ANN202
    if not n:
        return None
    import numpy as np

    ids = table["lead_id"].astype(str).to_numpy()
    pick = np.sort(ids)[:: max(len(ids) // n, 1)][:n]
    return table[np.isin(ids, pick)].sort_values("lead_id").reset_index(drop=True)


RUNNERS = {"builder": run_builder, "engagement": run_engagement, "polars": run_polars, "duckdb": run_duckdb,
           "polars-core": lambda d, a, s: run_polars(d, a, s, core=True),
           "duckdb-core": lambda d, a, s: run_duckdb(d, a, s, core=True), "pandas": run_pandas}


def child(name: str, data: Path, as_of: str, sample: int, sample_out: Path | None) -> None:
    result, table = RUNNERS[name](data, as_of, sample)
    result["peak_rss_mib"] = peak_rss_mib()
    if table is not None and sample_out is not None:
        table.to_parquet(sample_out)
    sys.stdout.write(json.dumps({"contender": name, **result}, default=str) + "\n")


# ----------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------
def compare(samples: dict[str, Path]) -> None:
    import numpy as np
    import pandas as pd

    if "engagement" not in samples:
        return
    ref = pd.read_parquet(samples["engagement"]).set_index("lead_id")
    for name, path in samples.items():
        if name == "engagement":
            continue
        other = pd.read_parquet(path).set_index("lead_id")
        common = [c for c in ref.columns if c in other.columns]
        rows = ref.index.intersection(other.index)
        bad = []
        for c in common:
            a = ref.loc[rows, c].to_numpy(dtype=float)
            b = other.loc[rows, c].to_numpy(dtype=float)
            if not np.allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True):
                bad.append(f"{c} (max |diff| {np.nanmax(np.abs(a - b)):.3g})")
        missing = [c for c in ref.columns if c not in other.columns]
        print(f"  check {name:10s} vs engagement: {len(rows)} leads, {len(common)} common features, "
              f"{len(bad)} differ{': ' + ', '.join(bad[:6]) if bad else ''}"
              f"{f'; not computed: {len(missing)}' if missing else ''}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="a generated world (leads/events Parquet)")
    ap.add_argument("--as-of", default="2026-07-01", help="features as of this date (default: the world's end)")
    ap.add_argument("--contenders", default="builder,engagement,polars,duckdb")
    ap.add_argument("--repeat", type=int, default=1, help="runs per contender (fresh process each)")
    ap.add_argument("--check", type=int, default=0, help="compare N sampled leads' features across contenders")
    ap.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    ap.add_argument("--sample-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.as_of, args.check, args.sample_out)
        return 0

    import tempfile

    names = [c.strip() for c in args.contenders.split(",") if c.strip()]
    print(f"data {args.data}, as of {args.as_of}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    samples: dict[str, Path] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench_features_"))
    rows = []
    for rep in range(args.repeat):
        for name in names:
            cmd = [sys.executable, __file__, "--data", str(args.data), "--as-of", args.as_of, "--child", name]
            if args.check and rep == 0:
                samples[name] = tmp / f"{name}.parquet"
                cmd += ["--check", str(args.check), "--sample-out", str(samples[name])]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: failed\n{proc.stderr[-3000:]}")
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(res)
            warm = f", warm {res['warm_compute_s']:.1f} s" if "warm_compute_s" in res else ""
            print(f"{name:11s} run {rep + 1}: load {res['load_s']:5.1f} s, fit {res['fit_s']:4.1f} s, "
                  f"compute {res['compute_s']:5.1f} s (CPU {res['compute_cpu_s']:5.1f} s){warm}, "
                  f"peak RSS {res['peak_rss_mib']:,.0f} MiB "
                  f"(after load {res['rss_after_load_mib']:,.0f}), {res['rows']:,} rows x {res['columns']} features, "
                  f"{res['events']:,} events, load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.check:
        compare({k: v for k, v in samples.items() if v.exists()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
