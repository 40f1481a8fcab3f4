"""Evaluation plots as matplotlib figures (the pipeline logs them; nothing here touches files)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402


def _axes(title: str) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    ax.set_title(title)
    return fig, ax


def roc_figure(y: np.ndarray, p: np.ndarray, name: str) -> Figure:
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = _axes(f"ROC - {name}")
    ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax.set(xlabel="False positive rate", ylabel="True positive rate")
    ax.legend(loc="lower right")
    return fig


def pr_figure(y: np.ndarray, p: np.ndarray, name: str) -> Figure:
    precision, recall, _ = precision_recall_curve(y, p)
    fig, ax = _axes(f"Precision-recall - {name}")
    ax.plot(recall, precision, label=name)
    ax.axhline(np.mean(y), ls="--", color="grey", label="base rate")
    ax.set(xlabel="Recall", ylabel="Precision")
    ax.legend(loc="upper right")
    return fig


def calibration_figure(y: np.ndarray, p: np.ndarray, name: str, bins: int = 10) -> Figure:
    order = np.argsort(p, kind="stable")
    chunks = [c for c in np.array_split(order, bins) if len(c)]
    fig, ax = _axes(f"Calibration - {name}")
    ax.plot([p[c].mean() for c in chunks], [y[c].mean() for c in chunks], "o-", label=name)
    top = max(float(p.max()), float(y.mean())) * 1.05
    ax.plot([0, top], [0, top], "--", color="grey", label="perfect")
    ax.set(xlabel="Predicted probability (bin mean)", ylabel="Observed conversion rate")
    ax.legend(loc="upper left")
    return fig


def gains_figure(y: np.ndarray, p: np.ndarray, name: str) -> Figure:
    order = np.argsort(-p, kind="stable")
    captured = np.cumsum(y[order]) / max(y.sum(), 1)
    share = np.arange(1, len(y) + 1) / len(y)
    fig, ax = _axes(f"Cumulative gains - {name}")
    ax.plot(share, captured, label=name)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax.set(xlabel="Share of leads contacted (best first)", ylabel="Share of conversions captured")
    ax.legend(loc="lower right")
    return fig


def score_histogram(score: np.ndarray, y: np.ndarray, name: str) -> Figure:
    fig, ax = _axes(f"Score distribution - {name}")
    bins = np.linspace(0, 100, 21)
    ax.hist(score[y == 0], bins=bins, alpha=0.6, label="not converted", density=True)
    ax.hist(score[y == 1], bins=bins, alpha=0.6, label="converted", density=True)
    ax.set(xlabel="Score (0-100)", ylabel="Density")
    ax.legend(loc="upper left")
    return fig


def shap_summary_figure(contrib: np.ndarray, X_numeric: np.ndarray, names: list[str], name: str,
                        max_display: int = 15) -> Figure:
    """shap's beeswarm summary of the contributions (log-odds)."""
    import shap

    plt.figure(figsize=(7, 6), dpi=100)
    shap.summary_plot(contrib, X_numeric, feature_names=names, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.suptitle(f"SHAP summary - {name}")
    fig.tight_layout()
    return fig
