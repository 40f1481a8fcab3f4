"""Issue 13: the hottest leads of a scores file and the trust counts (distinct probabilities, share at
the floor, reasons whose wording contradicts their sign), as markdown.

    .venv/bin/python benchmarks/trust_report.py demo/scores.parquet
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.reason_checks import scan  # noqa: E402


def report(path: str, n: int = 10) -> str:
    s = pd.read_parquet(path)
    reasons = s["top_reasons"].map(json.loads)
    counts = scan(reasons)
    total = sum(len(r) for r in reasons)
    top = s.assign(_m=s["fit_score"] + s["engagement_score"]).sort_values(["probability", "_m"], ascending=False).head(n)
    lines = ["| lead_id | probability | score | grade | top reasons |", "|---|---|---|---|---|"]
    for rec in top.itertuples():
        why = "; ".join(f"{r['label']} ({r['contribution']:+.2f})" for r in json.loads(rec.top_reasons))
        lines.append(f"| {rec.lead_id} | {rec.probability:.6f} | {rec.score} | {rec.grade} | {why} |")
    floor = float((s["probability"] <= s["probability"].min()).mean())
    lines += ["", f"- leads: {len(s):,}; distinct probabilities: {s['probability'].nunique():,}; "
                  f"distinct among the top {n}: {top['probability'].nunique()}",
              f"- share at the lowest probability ({s['probability'].min():.3g}): {floor:.2%}",
              f"- reasons: {total:,}; contradicting or unreadable: {sum(counts.values()):,}"]
    lines += [f"  - {k}: {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(sys.argv[1]))
