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
                   drivers: pd.DataFrame, figures: dict[str, str], insights: pd.DataFrame | None = None,
                   insight_rows: int = 40, segments: pd.DataFrame | None = None) -> str:
    """HTML: what was trained on, how each model did on the later test period, how the chosen
    model's grades convert, what drives its scores, with segments each segment's model against the
    global one on the same test rows and, with `insights` (models.insights.attribute_insights),
    how each profile value converts against the overall rate (the strongest `insight_rows` rows)."""
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
{segments_section(segments)}
<h2>Grades of {esc(best)} on the test period</h2>
<p>Grades are cut on the validation period (A = the top share of leads). A good model has a much higher
conversion rate in A than in D.</p>
{grades.to_html(index=False, border=0)}
<h2>What drives the scores</h2>
<p>Average impact of each feature on the score (SHAP, log-odds), strongest first.</p>
{drivers.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)}
{_insights_html(insights, insight_rows)}
<h2>Charts</h2>{images}
</body></html>"""


def _insights_html(insights: pd.DataFrame | None, rows: int) -> str:
    """The attribute insights section ("" without insights)."""
    if insights is None or insights.empty:
        return ""
    shown = insights.head(rows).copy()
    for col in ("fill_rate", "conversion_rate", "overall_rate"):
        shown[col] = shown[col].map(lambda v: f"{v:.1%}" if pd.notna(v) else "")
    shown["lift"] = shown["lift"].map(lambda v: f"{v:.2f}x" if pd.notna(v) else "")
    more = f" The {len(insights) - rows} weaker rows are in insights/attribute_insights.csv." if len(insights) > rows else ""
    return f"""<h2>What the data says, attribute by attribute</h2>
<p>Training examples per profile value: how often they converted against all of them (lift 2.00x = twice as
often), how many there are (support) and how often the column is filled. Plain counts, not the model: check
them against your own experience. Strongest differences (weighed by support) first.{more}</p>
{shown.to_html(index=False, border=0)}"""


def segments_section(segments: pd.DataFrame | None) -> str:
    """The segments table: per segment, its own model and the global model on the same test rows."""
    if segments is None or segments.empty:
        return ""
    def cell(v: Any) -> Any:
        if isinstance(v, float):
            return f"{v:.3f}" if v == v else ""
        return "" if v is None else v

    shown = segments.astype(object).map(cell)
    table = shown.to_html(index=False, border=0)
    return f"""<h2>Segments: own model vs global model on the same test rows</h2>
<p>Each segment with enough data has its own model, trained on its leads only; the others, and leads in no
segment, are scored by the global model. Both are judged here on the segment's test leads; "all (routed)"
is every test lead scored by the model that scores it in production.</p>
{table}"""
