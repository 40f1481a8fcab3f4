"""CRM-ready flat output: mapped columns, reasons as text, dates, rounding, the example mappings, the error."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from models.crm import crm_sources, to_crm

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"


def reasons(*labels_contributions: tuple[str, float]) -> str:
    return json.dumps([{"feature": "f", "label": lab, "value": 1, "contribution": c} for lab, c in labels_contributions])


def scores() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["L1", "L2"],
        "as_of": pd.to_datetime(["2026-06-01", "2026-06-01"]),
        "probability": [0.123456, 0.9],
        "score": [42, 97],
        "grade": ["C", "A"],
        "top_reasons": [reasons(("Requested a demo 2 days ago", 1.2), ("VP", 0.4), ("Small company", 0.1),
                                ("Free-mail address (gmail.com)", -0.5)), reasons(("Visited pricing", 0.3))],
        "scored_at": pd.to_datetime(["2026-06-02 23:59:00", "2026-06-03 00:00:01"]),
        "trend": ["improving", "not enough history"],
    })


def test_mapped_columns_in_mapping_order_with_reasons_date_and_rounding() -> None:
    out = to_crm(scores(), {"Id": "lead_id", "P": "probability", "R1": "reason_1", "R3": "reason_3",
                            "R4": "reason_4", "Day": "scored_date", "Trend": "trend"})
    assert list(out.columns) == ["Id", "P", "R1", "R3", "R4", "Day", "Trend"]
    assert out["P"].tolist() == [0.123, 0.9]
    assert out["R1"].tolist() == ["Requested a demo 2 days ago", "Visited pricing"]
    assert out["R3"].tolist() == ["Small company", ""] and out["R4"].tolist() == ["Free-mail address (gmail.com)", ""]
    assert out["Day"].tolist() == ["2026-06-02", "2026-06-03"] and out["Trend"].tolist()[0] == "improving"


def test_unknown_source_is_a_one_line_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"field 'LeadFoo__c' names unknown column 'foo'") as err:
        to_crm(scores(), {"Id": "lead_id", "LeadFoo__c": "foo"})
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="'trend'"):  # scores without a history have no trend column
        to_crm(scores().drop(columns="trend"), {"T": "trend"})
    with pytest.raises(ValueError, match="'reason_0'"):
        to_crm(scores(), {"R": "reason_0"})


@pytest.mark.parametrize("name, fields", [
    ("crm_hubspot.yaml", ["hs_object_id", "leadscore_score", "leadscore_grade", "leadscore_probability",
                          "leadscore_trend", "leadscore_reason_1", "leadscore_reason_2", "leadscore_reason_3",
                          "leadscore_scored_date"]),
    ("crm_salesforce.yaml", ["Id", "LeadScore__c", "LeadGrade__c", "LeadScoreProbability__c", "LeadScoreTrend__c",
                             "LeadScoreReason1__c", "LeadScoreReason2__c", "LeadScoreReason3__c", "LeadScoreDate__c"]),
])
def test_example_mappings_name_only_known_sources(name: str, fields: list[str]) -> None:
    mapping = yaml.safe_load((EXAMPLES / name).read_text())["fields"]
    assert set(mapping.values()) <= set(crm_sources(scores()))
    out = to_crm(scores(), mapping)
    assert list(out.columns) == fields
    assert out.iloc[1].tolist() == ["L2", 97, "A", 0.9, "not enough history", "Visited pricing", "", "", "2026-06-03"]
