"""The CRM step of a scored batch: OUT.crm.csv, the scores as the flat columns a CRM import accepts.

The mapping ({crm_field: leadscore column}, models/crm.py) comes from `output.crm`: `hubspot` or
`salesforce` (the examples in configs/examples/), a mapping YAML, or inline fields; without one, the
DEFAULT_FIELDS. Each part is turned into CRM rows (models.crm.to_crm) and streamed into the CSV, which
appears atomically at `finish` (pipeline.inputs.io.TableWriter): the core's scores writer is untouched.
CSV, whatever OUTPUT's format: CSV is what CRM imports read. Memory: one part at a time.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from models.crm import to_crm
from pipeline.errors import ConfigError
from pipeline.inputs.io import TableWriter
from pipeline.scoring.steps import Batch

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"
NAMED = {"hubspot": "crm_hubspot.yaml", "salesforce": "crm_salesforce.yaml"}
DEFAULT_FIELDS = {"lead_id": "lead_id", "score": "score", "grade": "grade", "probability": "probability",
                  "trend": "trend", "reason_1": "reason_1", "reason_2": "reason_2", "reason_3": "reason_3",
                  "scored_date": "scored_date"}


def crm_path(output: Path) -> Path:
    """scores.parquet -> scores.crm.csv, beside the scores."""
    return output.with_name(f"{output.stem}.crm.csv")


def load_mapping(spec: str | Mapping[str, str] | None, base: Path | None = None) -> dict[str, str]:
    """The {crm_field: column} mapping of `output.crm` (see the module docstring); a file's `fields:`."""
    if spec is None:
        return dict(DEFAULT_FIELDS)
    if isinstance(spec, Mapping):
        return _fields(dict(spec), "output.crm")
    path = EXAMPLES / NAMED[spec.lower()] if spec.lower() in NAMED else Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise ConfigError(f"output.crm: {path}: no CRM mapping file there (use hubspot, salesforce or a YAML path)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).strip().splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), dict):
        raise ConfigError(f"{path}: a CRM mapping needs a 'fields:' mapping of CRM field -> leadscore column")
    return _fields(raw["fields"], str(path))


def _fields(fields: dict[Any, Any], source: str) -> dict[str, str]:
    bad = [k for k, v in fields.items() if not isinstance(v, str) or not str(k).strip()]
    if bad or not fields:
        raise ConfigError(f"{source}: CRM field {bad[0]!r} needs a leadscore column name" if bad
                          else f"{source}: the CRM mapping has no fields")
    return {str(k): v for k, v in fields.items()}


def check_mapping(mapping: Mapping[str, str], columns: list[str], source: str = "output.crm") -> None:
    """Fail before scoring on a mapping that names a column the batch will not have (e.g. `trend`
    without a score history): the scores' columns are OUTPUT_COLUMNS + the earlier steps' columns."""
    try:
        to_crm(pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), mapping)
    except ValueError as exc:
        hint = "; trend and score_change need a score history (scoring.history or --history)" if any(
            v in ("trend", "score_change", "why_changed") and v not in columns for v in mapping.values()) else ""
        raise ConfigError(f"{source}: {exc}{hint}") from None


class CrmStep:
    """BatchStep: writes OUT.crm.csv (columns = the mapping's CRM fields) at finish; adds no score columns."""

    columns: list[str] = []

    def __init__(self, mapping: Mapping[str, str]):
        self.mapping = dict(mapping)
        self.writer: TableWriter | None = None
        self.target: Path | None = None

    def start(self, batch: Batch) -> None:
        self.target = crm_path(batch.output)
        # committed with OUTPUT when the batch succeeds, discarded when it fails (pipeline.scoring.steps.Batch.files)
        self.writer = batch.files.enter_context(TableWriter(self.target, list(self.mapping)))

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        self.writer.write(to_crm(scores, self.mapping))
        return scores

    def finish(self, batch: Batch) -> dict[str, Any]:
        return {"crm_output": str(self.target), "crm_rows": self.writer.rows}
