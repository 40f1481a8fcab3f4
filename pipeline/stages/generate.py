"""`leadscore generate`: write the sample world (SPEC 6) as Parquet files."""
from __future__ import annotations

from pathlib import Path

from pipeline.console import Reporter
from pipeline.inputs.io import write_table
from pipeline.sampleworld import WorldSpec, simulate_world

TABLES = ("leads", "events", "outcomes", "truth")


def run_generate(out: str | Path, n_leads: int, seed: int, reporter: Reporter | None = None,
                 days: int | None = None) -> dict[str, int]:
    """`days` shortens (or lengthens) the history: a world that starts from no leads, as a CRM adopted
    `days` ago does, with its conversions late in the history."""
    reporter = reporter or Reporter(quiet=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = WorldSpec(n_leads=n_leads, seed=seed) if days is None else WorldSpec(n_leads=n_leads, seed=seed, days=days)
    with reporter.progress("Simulating the sample world", spec.days) as update:
        world = simulate_world(spec, progress=update)
    rows = {}
    for name in TABLES:
        frame = getattr(world, name)
        write_table(frame, out / f"{name}.parquet")
        rows[name] = len(frame)
    reporter.step(f"Wrote {', '.join(f'{n} ({r:,} rows)' for n, r in rows.items())} to {out}")
    return rows
