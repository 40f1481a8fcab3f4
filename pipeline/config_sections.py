"""Config sections of the features beyond plain lead scores: segment models (`segments:`), account scores
(`accounts:`) and the output format (`output:`); `scoring.history` is one key of ScoringConfig. Kept
apart from pipeline/config.py so that file stays one screen per concern; pipeline/config.py plugs these
sections into `Config`."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

GRADE_LETTERS = ("A", "B", "C")


class Section(BaseModel):
    """As pipeline.config's sections: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AccountsConfig(Section):
    """`predict` writes OUT.accounts.EXT: the leads rolled up by company (models/accounts.py)."""

    enabled: bool = Field(True, description="false: no accounts file.")
    column: str | None = Field("account_id", description="The leads' account id column (a CRM account id); when the "
                                                         "leads have no such column, the company e-mail domain.")
    min_engagement: float | None = Field(0.0, description="Engaged lead: engagement_score (log-odds) above this.")
    min_score: int | None = Field(None, ge=0, le=100, description="Engaged lead also: score at or above this.")
    grade_cutoffs: dict[str, float] | None = Field(
        None, description="{A: 0.5, B: 0.25, C: 0.1}: the lowest p_any of each account grade; null: shares of "
                          "the batch's accounts, as the lead grades (top 10% A, next 20% B, next 30% C).")
    buying_roles: bool = Field(True, description="Buying-group roles from job titles and their completeness.")

    @model_validator(mode="after")
    def _cutoffs(self) -> AccountsConfig:
        cuts = self.grade_cutoffs
        if cuts is None:
            return self
        if sorted(cuts) != list(GRADE_LETTERS):
            raise ValueError(f"accounts.grade_cutoffs needs exactly the keys A, B, C (got {sorted(cuts)})")
        if not (1 >= cuts["A"] > cuts["B"] > cuts["C"] > 0):
            raise ValueError(f"accounts.grade_cutoffs must fall between 1 and 0: A > B > C (got {cuts})")
        return self


class OutputConfig(Section):
    """What `predict` writes besides the scores file."""

    format: Literal["scores", "crm"] = Field("scores", description="crm: also OUT.crm.csv, flat CRM import columns "
                                                                    "(`predict --format crm` overrides it).")
    crm: str | dict[str, str] | None = Field(
        None, description="The CRM mapping: hubspot, salesforce, a mapping YAML (relative to the config file; "
                          "see configs/examples/crm_hubspot.yaml) or inline {crm_field: leadscore column}; "
                          "null: lead_id, score, grade, probability, trend, reason_1..3, scored_date.")


class SegmentConfig(Section):
    """One segment: the leads whose `column` is one of `values` (or none of `not_in`); trimmed, case-insensitive."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Used in run, metric and model names.")
    column: str = Field(description="A categorical lead column (your column name or its role, e.g. country).")
    values: list[str] = Field(default_factory=list)
    not_in: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_filter(self) -> SegmentConfig:
        if bool(self.values) == bool(self.not_in):
            raise ValueError(f"segment '{self.name}': give exactly one of values or not_in (a non-empty list)")
        return self

    def keys(self) -> set[str]:
        return {v.strip().casefold() for v in (self.values or self.not_in)}


class SegmentsConfig(Section):
    """One global model plus one per segment (its own rows); too little data: the segment uses the global one."""

    define: list[SegmentConfig] = Field(default_factory=list, description="The segments; empty: one global model.")
    min_leads: int = Field(200, ge=1, description="Training-period leads a segment needs for its own model.")
    min_conversions: int = Field(40, ge=1, description="Converted (and other) training-period leads it needs.")
    min_eval_conversions: int = Field(5, ge=1, description="Converted leads it needs in validation and in test.")
    keep_if_better: bool = Field(True, description="Use a segment's own model only when it ranks the segment's "
                                                   "validation rows better (ROC AUC) than the global model does.")

    @model_validator(mode="after")
    def _no_overlap(self) -> SegmentsConfig:
        """Filters on the same column are compared here; on different columns, on the training leads (train)."""
        names = [s.name for s in self.define]
        if dup := next((n for n in names if names.count(n) > 1), None):
            raise ValueError(f"segments.define: the name '{dup}' is used twice")
        for i, a in enumerate(self.define):
            for b in self.define[i + 1:]:
                if a.column.casefold() != b.column.casefold():
                    continue
                if a.values and b.values:
                    shared = [f"'{v}'" for v in sorted(a.keys() & b.keys())]
                elif a.values or b.values:  # listed values the other segment does not exclude
                    listed, excluded = (a, b) if a.values else (b, a)
                    shared = [f"'{v}'" for v in sorted(listed.keys() - excluded.keys())]
                else:
                    shared = ["any value outside both not_in lists"]
                if shared:
                    raise ValueError(f"segments '{a.name}' and '{b.name}' overlap: {a.column} {shared[0]} is in "
                                     f"both (a lead belongs to one segment at most)")
        return self
