"""Drift monitoring of a batch: PSI per feature and for the score against the reference stored with
the model (models/drift.py), the drift reports beside the scores, MLflow metrics and one warning line.

How the batch core (`pipeline.scoring.batch`) uses it, part by part (memory does not grow with the
number of leads; the Spark engine counts the features per bucket and merges the counts):

    drift = BatchDrift(scorer, warn_psi=cfg.scoring.drift_warn_psi)
    for table in chunks:                      # the feature table given to the model
        scores = model.predict(table, ...)    # SPEC 4 columns, with `score`
        drift.update(table, scores)
    result = drift.finish()                   # None: the model was trained without a reference
    if result is not None:
        paths = write_drift_reports(result, output)     # <stem>.drift.json, <stem>.drift.html
        mlflow.log_metrics(drift_metrics(result)); [mlflow.log_artifact(p, "drift") for p in paths]
        warn_drift(result, log, report=paths[1])
"""
from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.drift import DRIFT_PSI, ColumnDrift, DriftAccumulator, DriftReference, DriftResult, status
from pipeline.inputs.io import atomic_file

TOP_IN_WARNING = 3
TOP_IN_REPORT = 8
PSI_FORMULA = ("PSI = sum over bins of (batch share - reference share) x ln(batch share / reference share); "
               "shares below 0.0001 count as 0.0001.")
_METRIC_NAME = re.compile(r"[^A-Za-z0-9_\-. /]")
_PLACEHOLDER = re.compile(r"\{value[^}]*\}")  # {value}, {value:.0%}, {value:,}


class BatchDrift:
    """Accumulates one batch's bin counts; a model without a stored reference makes every call a no-op."""

    def __init__(self, scorer: Any, warn_psi: float = DRIFT_PSI):
        reference: DriftReference | None = getattr(scorer, "drift_reference", None)  # older pickles lack it
        self.warn_psi = warn_psi
        self.accumulator = DriftAccumulator(reference) if reference is not None else None
        self.labels = {name: _describe(info) for name, info in (getattr(scorer, "info", None) or {}).items()}

    @property
    def enabled(self) -> bool:
        return self.accumulator is not None

    def update(self, table: pd.DataFrame, scores: pd.DataFrame) -> None:
        """Count one chunk: `table` as given to the model, `scores` its SPEC 4 output (same rows, same order)."""
        if self.accumulator is not None:
            self.accumulator.update(table, scores["score"].to_numpy())

    def finish(self) -> DriftResult | None:
        if self.accumulator is None:
            return None
        return self.accumulator.result(self.warn_psi, self.labels)


def fit_reference(scorer: Any, table: pd.DataFrame, period: str = "test period") -> DriftReference:
    """The reference stored with the model: `table` (a labelled period's feature table, every column but
    lead_id / as_of) and the model's own 0-100 scores on it, as `predict` would compute them."""
    scores = scorer.score(table, explain=False)["score"].to_numpy()
    source = f"{period}, {len(table):,} lead snapshots"
    if "as_of" in table and table["as_of"].notna().any():
        as_of = pd.to_datetime(table["as_of"])
        source += f" from {as_of.min().date()} to {as_of.max().date()}"
    return DriftReference.fit(table, scores, source=source)


def report_paths(output: str | Path) -> tuple[Path, Path]:
    """`<stem>.drift.json` and `<stem>.drift.html` beside the scores file."""
    output = Path(output)
    return output.with_name(f"{output.stem}.drift.json"), output.with_name(f"{output.stem}.drift.html")


def write_drift_reports(result: DriftResult, output: str | Path) -> list[Path]:
    """Write the JSON and HTML drift reports beside OUTPUT, each atomically (never a partial file)."""
    json_path, html_path = report_paths(output)
    text = json.dumps(result.to_dict(), indent=1, allow_nan=False)
    page = drift_html(result, Path(output).name)
    with atomic_file(json_path) as handle:
        handle.write(text.encode("utf-8"))
    with atomic_file(html_path) as handle:
        handle.write(page.encode("utf-8"))
    return [json_path, html_path]


def drift_metrics(result: DriftResult) -> dict[str, float]:
    """MLflow metrics of a batch run: the score's PSI, the largest feature PSI, how many features are
    shifted / to watch, and `psi.<feature>` for every feature (so each can be charted across runs)."""
    out: dict[str, float] = {
        "features_drifted": float(len(result.drifted())),
        "features_watch": float(len(result.watch())),
        "features_missing_changed": float(len(result.missing_changes())),
    }
    for name, value in (("psi_score", result.score.psi), ("psi_max", result.psi_max)):
        if np.isfinite(value):
            out[name] = float(value)
    for f in result.features:
        if np.isfinite(f.psi):
            out[f"psi.{_METRIC_NAME.sub('_', f.name)}"] = float(f.psi)
    return out


def warn_drift(result: DriftResult, logger: logging.Logger, report: str | Path | None = None) -> bool:
    """One warning line when the score or any feature is above the threshold, naming the top features
    with their PSI and the bin that moved most; returns whether it warned."""
    drifted = result.drifted()
    score_shifted = np.isfinite(result.score.psi) and result.score.psi > result.warn_psi
    if not drifted and not score_shifted:
        return False
    parts = [f"score PSI {result.score.psi:.2f} ({'shifted' if score_shifted else 'stable'}, {_biggest_move(result.score)})"]
    if drifted:
        shown = "; ".join(f"{f.name} {f.psi:.2f} ({_biggest_move(f)})" for f in drifted[:TOP_IN_WARNING])
        more = f"; and {len(drifted) - TOP_IN_WARNING} more" if len(drifted) > TOP_IN_WARNING else ""
        parts.append(f"{len(drifted)} of {len(result.features)} features shifted: {shown}{more}")
    where = f"; see {report}" if report else ""
    logger.warning("drift above PSI %.2f against the model's reference (%s): %s%s",
                   result.warn_psi, result.reference_source or "training data", "; ".join(parts), where)
    return True


def _biggest_move(column: ColumnDrift) -> str:
    """'= 0' 55% -> 100%: the bin whose share changed most."""
    moves = np.abs(np.asarray(column.batch) - np.asarray(column.reference))
    j = int(np.argmax(moves)) if len(moves) else 0
    return f"'{column.bins[j]}' {column.reference[j]:.0%} -> {column.batch[j]:.0%}"


def _describe(info: Any) -> str:
    """'Visited the pricing page … times in total' from the feature's label template."""
    label = str(getattr(info, "label", "") or "")
    return _PLACEHOLDER.sub("…", label)


# --- the HTML report -------------------------------------------------------------------------------

LIGHT = {"stable": ("#2e7d32", "stable"), "watch": ("#f9a825", "watch"), "drifted": ("#c62828", "shifted"),
         "no data": ("#9e9e9e", "no data")}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1050px;margin:2em auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:3px 9px;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.dot{display:inline-block;width:.9em;height:.9em;border-radius:50%;vertical-align:middle;margin-right:.3em}
.verdict{padding:.8em 1em;border-radius:6px;color:#fff;font-size:1.1em}
.bars td{border:none;padding:1px 6px}.bar{height:.75em;display:inline-block;vertical-align:middle}
.ref{background:#9e9e9e}.new{background:#1565c0}.feature{display:inline-block;vertical-align:top;margin:0 1.5em 1.2em 0}
.help{background:#f7f7f7;padding:.6em 1em;border-radius:6px}"""


def drift_html(result: DriftResult, scores_name: str = "") -> str:
    """A one-page report a sales or marketing manager can read: a verdict, the score's distribution,
    the features that moved most (reference vs this batch, as bars) and every feature by PSI."""
    esc = html.escape
    warn, watch = result.warn_psi, result.watch_psi
    drifted, watching = result.drifted(), result.watch()
    score_status = _status(result.score, warn, watch)
    worst = ("drifted" if drifted or score_status == "drifted"
             else "watch" if watching or score_status == "watch" else "stable")
    verdict = {"drifted": "Shifted: this batch of leads looks noticeably different from the leads the model was checked on.",
               "watch": "Worth watching: some distributions moved a little since training.",
               "stable": "Stable: this batch looks like the leads the model was checked on."}[worst]
    verdict += (f" {len(drifted)} of {len(result.features)} features shifted, {len(watching)} to watch; the score "
                f"distribution is {LIGHT[score_status][1]} (PSI {_psi_text(result.score.psi)}).")
    facts = {"Scores file": scores_name or "-", "Leads in this batch": f"{result.rows:,}",
             "Reference (stored with the model)": result.reference_source or f"{result.reference_rows:,} rows",
             "Score PSI": _psi_text(result.score.psi),
             "Features shifted (PSI > " + f"{warn:g})": f"{len(drifted)} of {len(result.features)}",
             f"Features to watch ({watch:g}-{warn:g})": str(len(watching))}
    if result.absent_features:
        facts["Features absent from the batch (counted as missing)"] = ", ".join(result.absent_features[:10])
    fact_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts.items())
    moved = (drifted + watching)[:TOP_IN_REPORT] or result.top(3)
    panels = "".join(_panel(f, warn, watch) for f in moved)
    rows = "".join(_row(f, warn, watch) for f in result.features)
    color = LIGHT[worst][0]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Drift report {esc(scores_name)}</title>
<style>{STYLE}</style></head><body>
<h1>Data drift report</h1>
<p class="verdict" style="background:{color}">{esc(verdict)}</p>
<table>{fact_rows}</table>
<div class="help"><b>How to read this.</b> For the score and for every feature, the values are sorted into
bins, and the share of leads in each bin is compared between the model's reference (a recent period of
the training data, stored with the model) and this batch. The <b>PSI</b> (population stability index)
adds up those differences: <span class="dot" style="background:{LIGHT['stable'][0]}"></span>below {watch:g}
stable, <span class="dot" style="background:{LIGHT['watch'][0]}"></span>{watch:g} to {warn:g} worth watching,
<span class="dot" style="background:{LIGHT['drifted'][0]}"></span>above {warn:g} shifted. A shifted feature
means the leads, the forms or the tracking changed; scores may then be less reliable, and retraining on
recent data usually helps. Grey bars: reference; blue bars: this batch.</div>
<h2>The score</h2>{_panel(result.score, warn, watch)}
<h2>Features that moved most</h2>{panels}
<h2>All features, by PSI</h2>
<table><tr><th></th><th>feature</th><th>what it measures</th><th>PSI</th><th>missing: reference</th>
<th>missing: batch</th></tr>
{rows}</table>
<p style="color:#666;font-size:.9em">{esc(PSI_FORMULA)}</p>
</body></html>"""


def _status(column: ColumnDrift, warn: float, watch: float) -> str:
    return status(column.psi, warn, watch) if np.isfinite(column.psi) else "no data"


def _psi_text(value: float) -> str:
    return f"{value:.3f}" if np.isfinite(value) else "n/a (no rows)"


def _dot(state: str) -> str:
    color, word = LIGHT[state]
    return f'<span class="dot" style="background:{color}" title="{word}"></span>{word}'


def _row(f: ColumnDrift, warn: float, watch: float) -> str:
    esc = html.escape
    return (f"<tr><td>{_dot(_status(f, warn, watch))}</td><td>{esc(f.name)}</td><td>{esc(f.label)}</td>"
            f'<td class="num">{_psi_text(f.psi)}</td><td class="num">{f.reference_missing:.1%}</td>'
            f'<td class="num">{f.batch_missing:.1%}</td></tr>')


def _panel(f: ColumnDrift, warn: float, watch: float) -> str:
    """Reference vs batch shares per bin as inline bars (no images, no external files)."""
    esc = html.escape
    top = max([*f.reference, *f.batch, 1e-9])
    lines = []
    for name, r, b in zip(f.bins, f.reference, f.batch):
        if r == 0 and b == 0:  # an empty bin (e.g. no missing values on either side)
            continue
        lines.append(f"<tr><td>{esc(name)}</td>"
                     f'<td><span class="bar ref" style="width:{140 * r / top:.1f}px"></span> {r:.1%}</td>'
                     f'<td><span class="bar new" style="width:{140 * b / top:.1f}px"></span> {b:.1%}</td></tr>')
    title = f"{esc(f.name)} <small>{esc(f.label)}</small>" if f.label and f.name != "score" else esc(f.label or f.name)
    return (f'<div class="feature"><b>{title}</b><br>{_dot(_status(f, warn, watch))} PSI {_psi_text(f.psi)}'
            f'<table class="bars"><tr><th>bin</th><th>reference</th><th>this batch</th></tr>{"".join(lines)}</table></div>')
