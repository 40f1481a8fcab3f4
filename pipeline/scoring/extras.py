"""The scored batch's extra steps, built from the config and the CLI: score history and trend, accounts,
CRM output. `build_steps` is what `run_predict` (both engines) calls; the order matters: the history step
adds `trend`, which the CRM step may export."""
from __future__ import annotations

from pathlib import Path

from models.accounts import EngagedRule
from models.scorer import OUTPUT_COLUMNS
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.scoring.accounts import AccountStep
from pipeline.scoring.crm import CrmStep, check_mapping, load_mapping
from pipeline.scoring.history import HistoryStep
from pipeline.scoring.steps import BatchStep

FORMATS = ("scores", "crm")


def build_steps(cfg: Config, history: str | Path | None = None, output_format: str | None = None) -> list[BatchStep]:
    """The steps of `leadscore predict`, in order: HistoryStep (`--history DIR`, else `scoring.history`),
    AccountStep (`accounts.enabled`), CrmStep (`--format crm`, else `output.format`). Config mistakes
    (an unknown format, a CRM mapping naming a column the batch will not have) fail here, before scoring."""
    steps: list[BatchStep] = []
    folder = history if history is not None else (cfg.resolve(cfg.scoring.history) if cfg.scoring.history else None)
    if folder is not None:
        steps.append(HistoryStep(Path(folder)))
    if cfg.accounts.enabled:
        a = cfg.accounts
        steps.append(AccountStep(column=a.column, engaged=EngagedRule(a.min_engagement, a.min_score),
                                 grade_cutoffs=a.grade_cutoffs, roles=a.buying_roles))
    fmt = output_format if output_format is not None else cfg.output.format
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "crm":
        mapping = crm_mapping(cfg, has_history=folder is not None)
        check_mapping(mapping, [*OUTPUT_COLUMNS, *(c for s in steps for c in s.columns)])
        steps.append(CrmStep(mapping))
    return steps


def crm_mapping(cfg: Config, has_history: bool) -> dict[str, str]:
    """`output.crm` read (relative to the config's folder); the default mapping drops `trend` without a history."""
    mapping = load_mapping(cfg.output.crm, cfg.resolve("."))
    if cfg.output.crm is None and not has_history:
        mapping.pop("trend")
    return mapping
