"""Config sections of the scored batch's extras: account scores (`accounts:`) and the output format
(`output:`); `scoring.history` is one key of ScoringConfig. Kept apart from pipeline/config.py so that
file stays one screen per concern; pipeline/config.py plugs these sections into `Config`."""
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
    def _cutoffs(self) -> "AccountsConfig":
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
