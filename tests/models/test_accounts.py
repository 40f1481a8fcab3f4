"""Account roll-up on hand-computed examples: keys, buying roles, p_any, best lead, grades, reasons."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.accounts import ACCOUNT_COLUMNS, ROLE_COLUMNS, EngagedRule, account_grades, account_key, buying_role, roll_up


def reasons(*items: tuple[str, str, float]) -> str:
    return json.dumps([{"feature": f, "label": lab, "value": 1, "contribution": c} for f, lab, c in items])


def scores(rows: list[tuple[str, float, int, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lead_id", "probability", "score", "engagement_score", "top_reasons"])


def test_free_mail_disposable_and_invalid_leads_get_no_account() -> None:
    leads = pd.DataFrame({"email": ["ann@Acme.COM", "bob@acme.com", "c@gmail.com", "d@mailinator.com",
                                    "e@gmial.com", "broken", None, "f@beta.io"]})
    assert account_key(leads).tolist()[:2] == ["acme.com", "acme.com"]
    assert account_key(leads).iloc[2:7].isna().all() and account_key(leads).iloc[7] == "beta.io"


def test_account_column_wins_and_blanks_are_no_account() -> None:
    leads = pd.DataFrame({"email": ["a@acme.com", "b@gmail.com", "c@acme.com", "d@acme.com"],
                          "crm_account": [" 001A", "001A", "  ", None]})
    key = account_key(leads, "crm_account")
    assert key.tolist()[:2] == ["001A", "001A"] and key.iloc[2:].isna().all()
    with pytest.raises(ValueError, match="'nope'"):
        account_key(leads, "nope")


@pytest.mark.parametrize("title, role", [
    ("Founder & CEO", "decision_maker"), ("CFO", "decision_maker"), ("VP Sales", "decision_maker"),
    ("Head of Marketing", "champion"), ("IT Director", "champion"), ("Marketing Manager", "champion"),
    ("Senior Developer", "user"), ("Data Analyst", "user"), ("Marketing", "user"),
    ("Marketing Intern", "unknown"), ("", "unknown"), (None, "unknown"), ("Wizard", "unknown"),
])
def test_buying_role_table(title: object, role: str) -> None:
    assert buying_role(pd.Series([title], dtype=object)).iloc[0] == role


def test_roll_up_p_any_best_lead_engaged_and_reasons() -> None:
    frame = scores([
        ("a1", 0.5, 50, 0.2, reasons(("pricing", "Visited pricing", 0.5), ("email", "Free-mail", -0.3))),
        ("a2", 0.5, 60, -0.1, reasons(("pricing", "Visited pricing", 0.25), ("demo", "Requested a demo", 0.4),
                                      ("size", "Small company", 0.1), ("ind", "Software", 0.05))),
        ("b1", 0.2, 20, 0.0, "[]"),
        ("x1", 0.99, 99, 3.0, reasons(("demo", "Requested a demo", 2.0))),  # no account: left out
    ])
    keys = pd.Series(["acme.com", "acme.com", "beta.io", None])
    out = roll_up(frame, keys)
    assert list(out.columns) == ACCOUNT_COLUMNS
    acme, beta = out.iloc[0], out.iloc[1]
    assert acme["account"] == "acme.com" and acme["leads"] == 2 and acme["p_any"] == pytest.approx(0.75)
    assert acme["account_score"] == 75 and acme["best_lead_id"] == "a2" and acme["best_score"] == 60  # tie on p: score
    assert acme["engaged_leads"] == 1 and beta["engaged_leads"] == 0  # engagement_score > 0, strictly
    top = json.loads(acme["top_reasons"])
    assert [(r["label"], r["contribution"], r["leads"]) for r in top] == [
        ("Visited pricing", 0.75, 2), ("Requested a demo", 0.4, 1), ("Small company", 0.1, 1)]  # 3 positive at most
    assert beta["p_any"] == pytest.approx(0.2) and json.loads(beta["top_reasons"]) == []


def test_engaged_by_score_threshold_too() -> None:
    frame = scores([("a", 0.1, 80, np.nan, "[]"), ("b", 0.1, 79, np.nan, "[]")])
    out = roll_up(frame, pd.Series(["k", "k"]), engaged=EngagedRule(min_engagement=0.0, min_score=80))
    assert out["engaged_leads"].tolist() == [1]


def test_buying_group_completeness() -> None:
    frame = scores([(f"l{i}", 0.1, 10, 0.0, "[]") for i in range(5)])
    keys = pd.Series(["a", "a", "a", "b", "b"])
    roles = pd.Series(["decision_maker", "champion", "user", "user", "unknown"])
    out = roll_up(frame, keys, roles).set_index("account")
    assert list(out.reset_index().columns) == ACCOUNT_COLUMNS + ROLE_COLUMNS
    assert out.loc["a", "buying_group_completeness"] == 1.0
    assert out.loc["b", ["has_decision_maker", "has_champion", "has_user"]].tolist() == [False, False, True]
    assert out.loc["b", "buying_group_completeness"] == pytest.approx(1 / 3)


def test_grades_by_shares_and_by_cutoffs() -> None:
    p = np.linspace(0.95, 0.05, 10)  # ten accounts, best first
    assert "".join(account_grades(p)) == "ABBCCCDDDD"
    assert "".join(account_grades(np.array([0.5, 0.5, 0.1]), {"A": 0.5, "B": 0.25, "C": 0.25})) == "AAC"  # ties
    assert "".join(account_grades(np.array([0.6, 0.5, 0.3, 0.1, 0.05]), cutoffs={"A": 0.5, "B": 0.25, "C": 0.1})) == "AABCD"


def test_keys_must_align_with_scores() -> None:
    with pytest.raises(ValueError, match="3 account keys for 1"):
        roll_up(scores([("a", 0.1, 1, 0.0, "[]")]), pd.Series(["k", "k", "k"]))


def test_roll_up_of_chunks_holding_whole_accounts_equals_the_whole_once_regraded() -> None:
    """predict scores in chunks: with each account inside one chunk (chunks keyed by account), the chunks'
    account rows concatenated and graded again over all accounts equal the roll-up of the whole batch."""
    rng = np.random.default_rng(3)
    n = 400
    frame = scores([(f"l{i}", float(p), int(p * 100), 0.1, reasons(("f", f"R{i % 7}", 0.1 + i % 3)))
                    for i, p in enumerate(rng.random(n) * 0.4)])
    keys = pd.Series(rng.choice([f"co{j}.com" for j in range(60)], n))
    whole = roll_up(frame, keys)
    first = keys.str[2:4].str.strip(".").astype(int).to_numpy() % 2 == 0  # co0.com ... by account, not by lead
    parts = [roll_up(frame.loc[m].reset_index(drop=True), keys[m].reset_index(drop=True)) for m in (first, ~first)]
    joined = pd.concat(parts, ignore_index=True)
    joined["account_grade"] = account_grades(joined["p_any"].to_numpy())
    joined = joined.sort_values(["p_any", "best_score", "account"], ascending=[False, False, True]).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, whole)
