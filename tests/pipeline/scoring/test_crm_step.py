"""CrmStep and build_steps: OUT.crm.csv under HubSpot and Salesforce field names, config mistakes up front."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.scoring.accounts import AccountStep
from pipeline.scoring.crm import EXAMPLES, CrmStep, load_mapping
from pipeline.scoring.extras import build_steps
from pipeline.scoring.history import HistoryStep
from tests.pipeline.scoring.stepkit import batch, drive, reasons, scores_frame

ROWS = [
    dict(lead_id="00Q1", probability=0.61234, score=91, grade="A", engagement_score=0.3,
         top_reasons=reasons(("demo", "Requested a demo 2 days ago", 1.2), ("size", "Company of 500", 0.4),
                             ("web", "Webinar", 0.2), ("mail", "Free-mail address", -0.3))),
    dict(lead_id="00Q2", probability=0.05, score=12, grade="D", engagement_score=0.0, top_reasons="[]"),
]
LEADS = pd.DataFrame({"lead_id": ["00Q1", "00Q2"], "email": ["a@acme.com", "b@gmail.com"], "job_title": ["CEO", ""]})


def crm_run(tmp_path, crm: object, history: bool = True) -> pd.DataFrame:
    cfg = parse_config({"output": {"format": "crm", "crm": crm}, "accounts": {"enabled": False}})
    steps = build_steps(cfg, history=tmp_path / "history" if history else None)
    assert [type(s) for s in steps] == ([HistoryStep] if history else []) + [CrmStep]
    drive(steps, scores_frame(ROWS, "2026-01-05"), LEADS, batch(tmp_path / "scores.parquet", "2026-01-05"), parts=2)
    return pd.read_csv(tmp_path / "scores.crm.csv", dtype=str, keep_default_na=False)


def test_hubspot_mapping(tmp_path) -> None:
    crm = crm_run(tmp_path, "hubspot")
    assert list(crm.columns) == ["hs_object_id", "leadscore_score", "leadscore_grade", "leadscore_probability",
                                 "leadscore_trend", "leadscore_reason_1", "leadscore_reason_2", "leadscore_reason_3",
                                 "leadscore_scored_date"]
    first = crm.iloc[0]
    assert first["hs_object_id"] == "00Q1" and first["leadscore_score"] == "91" and first["leadscore_probability"] == "0.612"
    assert first["leadscore_trend"] == "not enough history" and first["leadscore_scored_date"] == "2026-01-06"
    assert [first[f"leadscore_reason_{i}"] for i in (1, 2, 3)] == ["Requested a demo 2 days ago", "Company of 500",
                                                                   "Webinar"]
    assert crm.iloc[1]["leadscore_reason_1"] == ""


def test_salesforce_mapping_from_a_yaml_path(tmp_path) -> None:
    crm = crm_run(tmp_path, str(EXAMPLES / "crm_salesforce.yaml"))
    assert crm.columns[:3].tolist() == ["Id", "LeadScore__c", "LeadGrade__c"]
    assert crm["LeadScoreDate__c"].tolist() == ["2026-01-06", "2026-01-06"]  # scored_at's date
    assert crm["LeadScoreReason1__c"].tolist() == ["Requested a demo 2 days ago", ""]


def test_default_mapping_without_history_has_no_trend(tmp_path) -> None:
    crm = crm_run(tmp_path, None, history=False)
    assert list(crm.columns) == ["lead_id", "score", "grade", "probability", "reason_1", "reason_2", "reason_3",
                                 "scored_date"]


def test_inline_mapping_naming_trend_without_a_history_fails_before_scoring() -> None:
    cfg = parse_config({"output": {"format": "crm", "crm": {"Score": "score", "Trend": "trend"}}})
    with pytest.raises(ConfigError, match="'Trend' names unknown column 'trend'.*need a score history"):
        build_steps(cfg)


def test_unknown_mapping_file_and_format_are_config_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no CRM mapping file there"):
        build_steps(parse_config({"output": {"format": "crm", "crm": "nope.yaml"}}))
    (tmp_path / "bad.yaml").write_text("crm: x\nfields: [a, b]\n")
    with pytest.raises(ConfigError, match="needs a 'fields:' mapping"):
        load_mapping(str(tmp_path / "bad.yaml"))
    with pytest.raises(ConfigError, match="--format 'xml'"):
        build_steps(parse_config({}), output_format="xml")


def test_build_steps_order_and_defaults(tmp_path) -> None:
    assert [type(s) for s in build_steps(parse_config({}))] == [AccountStep]
    cfg = parse_config({"scoring": {"history": str(tmp_path / "h")}})
    steps = build_steps(cfg, output_format="crm")
    assert [type(s) for s in steps] == [HistoryStep, AccountStep, CrmStep]
    assert steps[0].history == tmp_path / "h"
    assert build_steps(cfg, history=tmp_path / "cli")[0].history == tmp_path / "cli"  # the CLI wins


@pytest.mark.parametrize("accounts, message", [
    ({"grade_cutoffs": {"A": 0.5, "B": 0.6, "C": 0.1}}, "must fall"),
    ({"grade_cutoffs": {"A": 0.5}}, "exactly the keys A, B, C"),
    ({"colum": "x"}, "unknown key 'accounts.colum'; did you mean 'accounts.column'"),
])
def test_accounts_config_errors(accounts: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"accounts": accounts})


def test_a_mapping_file_is_relative_to_the_config_file(tmp_path) -> None:
    from pipeline.config import load_config

    (tmp_path / "mine.yaml").write_text("fields:\n  Score: score\n  Why: reason_1\n")
    (tmp_path / "config.yaml").write_text("output:\n  format: crm\n  crm: mine.yaml\naccounts:\n  enabled: false\n")
    steps = build_steps(load_config(tmp_path / "config.yaml"))
    assert steps[-1].mapping == {"Score": "score", "Why": "reason_1"}
    named = parse_config({"output": {"format": "crm", "crm": "Salesforce"}})
    assert build_steps(named, history=tmp_path / "h")[-1].mapping["Id"] == "lead_id"
    with pytest.raises(ConfigError, match="'LeadScoreTrend__c' names unknown column 'trend'"):
        build_steps(named)  # its trend field needs a history
