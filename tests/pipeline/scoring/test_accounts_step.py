"""AccountStep driven as the engines drive it: colleagues split over parts still roll up into one account."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from models.accounts import ACCOUNT_COLUMNS, ROLE_COLUMNS, EngagedRule
from pipeline.errors import InputError
from pipeline.scoring.accounts import AccountStep, accounts_path
from tests.pipeline.scoring.stepkit import batch, drive, reasons, scores_frame

LEADS = pd.DataFrame({
    "lead_id": ["1", "2", "3", "4", "5", "6"],
    "email": ["ann@acme.com", "bob@acme.com", "cy@gmail.com", "di@beta.io", "ed@acme.com", "fa@beta.io"],
    "job_title": ["CEO", "Marketing Manager", "Developer", "Senior Developer", None, "Head of IT"],
    "account_id": ["ACC-1", "ACC-1", "ACC-1", "ACC-2", "ACC-1", None],
})
ROWS = [
    dict(lead_id="1", probability=0.5, score=80, grade="A", engagement_score=0.3,
         top_reasons=reasons(("pricing", "Visited pricing", 0.5), ("mail", "Free-mail", -0.2))),
    dict(lead_id="2", probability=0.2, score=40, grade="C", engagement_score=-0.1,
         top_reasons=reasons(("pricing", "Visited pricing", 0.2), ("demo", "Requested a demo", 0.4))),
    dict(lead_id="3", probability=0.9, score=99, grade="A", engagement_score=1.0,
         top_reasons=reasons(("demo", "Requested a demo", 1.0))),
    dict(lead_id="4", probability=0.1, score=10, grade="D", engagement_score=0.0, top_reasons="[]"),
    dict(lead_id="5", probability=0.1, score=12, grade="D", engagement_score=0.5, top_reasons=reasons(("web", "Webinar",
                                                                                                       0.3))),
    dict(lead_id="6", probability=0.3, score=55, grade="B", engagement_score=0.1, top_reasons=reasons(("web", "Webinar",
                                                                                                       0.1))),
]
SCORES = scores_frame(ROWS, "2026-01-05")


def test_email_domain_accounts_across_parts(tmp_path) -> None:
    out, summary = drive([AccountStep(column=None)], SCORES, LEADS.drop(columns="account_id"),
                         batch(tmp_path / "scores.parquet", "2026-01-05"), parts=3)
    accounts = pd.read_parquet(accounts_path(tmp_path / "scores.parquet"))
    assert list(accounts.columns) == ACCOUNT_COLUMNS + ROLE_COLUMNS
    acme = accounts.set_index("account").loc["acme.com"]
    # leads 1, 2, 5 (3 is gmail: no account); 1 - 0.5 * 0.8 * 0.9
    assert acme["leads"] == 3 and acme["p_any"] == pytest.approx(0.64, abs=1e-6)
    assert acme["engaged_leads"] == 2 and acme["best_lead_id"] == "1" and acme["account_score"] == 64
    top = json.loads(acme["top_reasons"])
    assert [r["label"] for r in top] == ["Visited pricing", "Requested a demo", "Webinar"]
    assert top[0]["leads"] == 2 and top[0]["contribution"] == pytest.approx(0.7)
    assert acme["has_decision_maker"] and acme["has_champion"] and not acme["has_user"]
    assert acme["buying_group_completeness"] == pytest.approx(2 / 3)
    assert accounts["account"].tolist() == ["acme.com", "beta.io"]  # best account first
    assert summary["accounts"] == 2 and summary["leads_without_account"] == 1
    assert out.equals(SCORES)  # adds no columns


def test_account_id_column_wins_over_the_domain(tmp_path) -> None:
    _, summary = drive([AccountStep(column="account_id", engaged=EngagedRule(min_engagement=None, min_score=50))],
                       SCORES, LEADS, batch(tmp_path / "s.csv", "2026-01-05"))
    accounts = pd.read_csv(tmp_path / "s.accounts.csv").set_index("account")
    assert set(accounts.index) == {"ACC-1", "ACC-2"}  # lead 6 has no account id
    assert accounts.loc["ACC-1", "leads"] == 4  # the gmail lead belongs to ACC-1 by its CRM account
    assert accounts.loc["ACC-1", "best_lead_id"] == 3 and accounts.loc["ACC-1", "engaged_leads"] == 2  # score >= 50
    assert summary["leads_without_account"] == 1


def test_missing_account_column_falls_back_to_the_domain(tmp_path) -> None:
    drive([AccountStep(column="crm_account")], SCORES, LEADS, batch(tmp_path / "s.parquet", "2026-01-05"))
    assert "acme.com" in pd.read_parquet(tmp_path / "s.accounts.parquet")["account"].tolist()


def test_no_accounts_writes_an_empty_file_with_the_columns(tmp_path) -> None:
    leads = LEADS.assign(email="someone@gmail.com").drop(columns="account_id")
    _, summary = drive([AccountStep(column=None)], SCORES, leads, batch(tmp_path / "s.parquet", "2026-01-05"))
    accounts = pd.read_parquet(tmp_path / "s.accounts.parquet")
    assert len(accounts) == 0 and list(accounts.columns) == ACCOUNT_COLUMNS + ROLE_COLUMNS
    assert summary["leads_without_account"] == len(SCORES)


def test_a_scored_lead_missing_from_its_input_part_is_an_input_error(tmp_path) -> None:
    step = AccountStep()
    step.start(batch(tmp_path / "s.parquet", "2026-01-05"))
    with pytest.raises(InputError, match="1 scored leads are missing"):
        step.part(SCORES, LEADS.iloc[1:])
