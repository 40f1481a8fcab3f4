"""A one-page HTML report of a training session that a sales manager can read (no files touched here)."""
from __future__ import annotations

import base64
import html
import io
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

EXPLAIN = {
    "roc_auc": "How well the model ranks a converting lead above a non-converting one (0.5 = coin flip, 1 = perfect).",
    "pr_auc": "Precision across all cut-offs; compare it with the base conversion rate.",
    "lift_at_10": "How many times more conversions the top 10% of leads hold than an average 10%.",
    "ece": "Calibration error: the typical gap between predicted and observed conversion rates (lower is better).",
    "brier": "Mean squared error of the probabilities (lower is better).",
    "log_loss": "Penalty for confident wrong probabilities (lower is better).",
    "ks": "Largest gap between the score distributions of converting and other leads.",
}


def figure_png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def session_report(title: str, facts: dict[str, Any], models: pd.DataFrame, best: str, grades: pd.DataFrame,
                   drivers: pd.DataFrame, figures: dict[str, str]) -> str:
    """HTML: what was trained on, how each model did on the later test period, how the chosen
    model's grades convert, and what drives its scores."""
    esc = html.escape
    facts_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in facts.items())
    metric_help = "".join(f"<li><b>{k}</b>: {esc(v)}</li>" for k, v in EXPLAIN.items())
    images = "".join(f'<figure><img src="data:image/png;base64,{png}" alt="{esc(name)}">'
                     f'<figcaption>{esc(name)}</figcaption></figure>' for name, png in figures.items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
th{{background:#f4f4f4}}figure{{display:inline-block;margin:0 1em 1em 0}}img{{width:420px}}</style></head><body>
<h1>{esc(title)}</h1>
<h2>Data</h2><table>{facts_rows}</table>
<h2>Models on the test period</h2>
<p>Every model was trained on earlier leads and judged on a later period it never saw. The chosen model
(<b>{esc(best)}</b>) was picked on the validation period, before looking at the test period.</p>
{models.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)}
<ul>{metric_help}</ul>
<h2>Grades of {esc(best)} on the test period</h2>
<p>Grades are cut on the validation period (A = the top share of leads). A good model has a much higher
conversion rate in A than in D.</p>
{grades.to_html(index=False, border=0)}
<h2>What drives the scores</h2>
<p>Average impact of each feature on the score (SHAP, log-odds), strongest first.</p>
{drivers.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)}
<h2>Charts</h2>{images}
</body></html>"""
