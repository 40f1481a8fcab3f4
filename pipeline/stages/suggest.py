"""`leadscore points suggest`: a points table derived from historical close rates, as rules YAML."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from models.points import rules_to_yaml_dict, suggest_rules
from pipeline.config import Config
from pipeline.inputs.data import load_training_inputs
from pipeline.inputs.examples import build_examples
from pipeline.inputs.io import atomic_path


def run_suggest(cfg: Config, output: str | Path, data: str | None = None) -> dict[str, Any]:
    """Rules from every labelled example known now (train, validation and test periods)."""
    output = Path(output)
    inputs = load_training_inputs(cfg, data)
    examples = build_examples(cfg, inputs, None)
    names = list(examples.builder.feature_names_out_)
    sc = cfg.models.points_suggested
    rules = suggest_rules(examples.table[names], examples.y, examples.builder.categorical_features(),
                          min_support=sc.min_support, smoothing=sc.smoothing, scale=sc.scale, bins=sc.bins,
                          max_rules=sc.max_rules, max_features=sc.max_features,
                          half_life_days=cfg.features.engagement.half_life_days)
    header = (f"# Suggested by `leadscore points suggest` from {len(examples.y):,} examples "
              f"({int(np.sum(examples.y)):,} conversions).\n# points = {sc.scale:g} x ln(smoothed close rate / "
              f"overall rate); review before use, then point models.points.rules at this file.\n")
    with atomic_path(output) as tmp:
        tmp.write_text(header + yaml.safe_dump(rules_to_yaml_dict(rules), sort_keys=False, allow_unicode=True))
    return {"output": str(output), "rules": len(rules.rules), "examples": int(len(examples.y))}
