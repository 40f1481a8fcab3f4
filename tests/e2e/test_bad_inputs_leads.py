"""Bad leads files: the lead contract's errors, and the cell problems where proceeding with one warning is right.

Rules: pipeline/inputs/contracts.py (what stops a command) and pipeline/inputs/cells.py (how cells are read).

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CliResult
from tests.e2e.bad_inputs import CaseBook, Corpus, Ctx, check_all_rows, check_case, set_cells

CASES = CaseBook()


@CASES.case("missing required column (created_at)", "features", "error", "leads.csv", "missing required column 'created_at'")
def c_missing_required_column(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads().drop(columns=["created_at"]), "leads.csv"))


@CASES.case("duplicate lead_id", "features", "error", "leads.csv", "'lead_id' must be unique", "rows 2, 5")
def c_duplicate_lead_id(x: Ctx) -> list[str]:
    leads = x.leads()
    leads.loc[4, "lead_id"] = leads.loc[1, "lead_id"]
    return x.features(x.write(leads, "leads.csv"))


@CASES.case("null lead_id", "features", "error", "leads.csv", "'lead_id' has 1 empty ids, rows 7")
def c_null_lead_id(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "lead_id", {6: None}), "leads.csv"))


@CASES.case("unparseable date", "features", "error", "leads.csv", "'created_at'", "rows 4 ('yesterday')")
def c_unparseable_date(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {3: "yesterday"}), "leads.csv"))


@CASES.case("mixed-format dates (03/01/2025, 1 March 2025)", "features", "error",
            "'created_at' has 2 values that are not ISO dates", "rows 2, 6")
def c_mixed_format_dates(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {1: "03/01/2025", 5: "1 March 2025"}), "leads.csv"))


@CASES.case("empty created_at", "features", "error", "leads.csv", "'created_at' has 1 empty dates, rows 9")
def c_empty_dates(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {8: None}), "leads.csv"))


@CASES.case("dates as numbers (epoch seconds)", "features", "error", "'created_at' holds numbers, not dates")
def c_numeric_dates(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["created_at"] = pd.to_datetime(leads["created_at"]).astype("int64") // 10**9
    return x.features(x.write(leads, "leads.csv"))


@CASES.case("numeric column that is all text (employees: 'many')", "features", "error", "'employees' should hold numbers",
      "rows 1, 2, 3")
def c_numeric_column_all_text(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["employees"] = np.where(np.arange(len(leads)) % 2, "many", "few")
    return x.features(x.write(leads, "leads.csv"))


@CASES.case("two columns mapped to one role", "features", "error", "two columns map to 'employees'")
def c_two_columns_one_role(x: Ctx) -> list[str]:
    leads = x.leads().assign(Headcount=50)
    cfg = x.text("cfg.yaml", "data:\n  lead_columns:\n    employees: Headcount\n")
    return x.features(x.write(leads, "leads.csv"), config=cfg)


def _check_ids_kept(x: Ctx, r: CliResult) -> None:
    table = pd.read_parquet(x.out)
    assert table["lead_id"].head(3).tolist() == ["000001", "000002", "000003"]


def _check_bom(x: Ctx, r: CliResult) -> None:
    assert pd.read_parquet(x.out)["lead_id"].tolist() == x.base.leads["lead_id"].tolist()


def _check_crm_numbers(x: Ctx, r: CliResult) -> None:
    table = pd.read_parquet(x.out)
    assert table["employees"].head(3).tolist() == [125.5, 1200.0, 10000.0]
    assert table["annual_revenue"].iloc[0] == 1.5e6


def _check_no_personal_columns(x: Ctx, r: CliResult) -> None:
    assert not {"contact_email", "Full Name", "mobile"} & set(pd.read_parquet(x.out).columns)


@CASES.case("a UTF-8 BOM", "features", "proceed", check=_check_bom)
def c_bom(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads(), "leads.csv", encoding="utf-8-sig"))


@CASES.case("ids with leading zeros (000123)", "features", "proceed", check=_check_ids_kept)
def c_leading_zero_ids(x: Ctx) -> list[str]:
    leads, events = x.leads(), x.events()
    ids = {old: f"{i + 1:06d}" for i, old in enumerate(leads["lead_id"])}
    leads["lead_id"] = leads["lead_id"].map(ids)
    events["lead_id"] = events["lead_id"].map(ids)
    return x.features(x.write(leads, "leads.csv"), x.write(events, "events.csv"))


@CASES.case("CRM number formats (51-200, 1,200, 10,000+, $1.5M)", "features", "proceed", check=_check_crm_numbers)
def c_crm_number_formats(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "employees", {0: "51-200", 1: "1,200", 2: "10,000+"})
    leads = set_cells(leads, "annual_revenue", {0: "$1.5M"})
    return x.features(x.write(leads, "leads.csv"))


@CASES.case("timestamps after --as-of (a few leads and events)", "features", "proceed",
            "2 leads created at or after 2025-10-01 00:00:00 were left out",
            "4 events at or after 2025-10-01 00:00:00 were ignored", check=check_all_rows)
def c_future_timestamps(x: Ctx) -> list[str]:
    leads, events = x.leads(), x.events()
    late = leads.head(2).assign(lead_id=["late-1", "late-2"], created_at=pd.Timestamp("2026-01-05"))
    future = events.head(4).assign(timestamp=pd.Timestamp("2030-01-01"))
    return x.features(x.write(pd.concat([leads, late]), "leads.csv"), x.write(pd.concat([events, future]), "events.csv"))


@CASES.case("text in a numeric column (employees: 'about 50')", "features", "proceed",
      "2 values that are not numbers count as missing ('employees' 2, rows 3, 7 ('about 50', 'n/a?'))", check=check_all_rows)
def c_text_in_numeric(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {2: "about 50", 6: "n/a?"}), "leads.csv"))


@CASES.case("text in a generic numeric column", "features", "proceed",
      "2 values that are not numbers count as missing ('fit_points' 2, rows 4, 9", check=check_all_rows)
def c_text_in_generic_numeric(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["fit_points"] = [str(i % 17) for i in range(len(leads))]
    return x.features(x.write(set_cells(leads, "fit_points", {3: "unknown", 8: "tbd"}), "leads.csv"))


@CASES.case("NaN and inf", "features", "proceed", "2 infinite values count as missing", "'employees' 1, rows 2 (inf)",
      "'annual_revenue' 1, rows 5 (-inf)", check=check_all_rows, lines=1)
def c_nan_and_inf(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "employees", {1: float("inf"), 5: float("nan")})
    return x.features(x.write(set_cells(leads, "annual_revenue", {4: float("-inf"), 7: None}), "leads.csv"))


@CASES.case("negative employee counts", "features", "proceed",
      "2 negative values count as missing ('employees' 2, rows 1, 10 (-5.0, -1.0))", check=check_all_rows)
def c_negative_employees(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {0: -5, 9: -1}), "leads.csv"))


@CASES.case("absurdly large values (5e9 employees)", "features", "proceed",
      "1 implausibly large values count as missing ('employees' 1, rows 4", check=check_all_rows)
def c_absurd_large(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {3: 5_000_000_000}), "leads.csv"))


@CASES.case("10,000-character strings", "features", "proceed",
      "2 text cells longer than 1,000 characters were cut to 1,000 ('job_title' 1, rows 4", check=check_all_rows)
def c_long_strings(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "job_title", {3: "Chief " + "x" * 10_000})
    return x.features(x.write(set_cells(leads, "company", {4: "Acme " * 2_000}), "leads.csv"))


@CASES.case("unmapped columns with personal data", "features", "proceed", "3 columns look like personal data",
      "'contact_email' (e-mail addresses)",
      "'Full Name' (its name)", "'mobile' (phone numbers)", check=_check_no_personal_columns, lines=1)
def c_unmapped_personal_columns(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["contact_email"] = "x" + leads["email"].astype(str)
    leads["Full Name"] = leads["first_name"].astype(str) + " " + leads["last_name"].astype(str)
    leads["mobile"] = "+44 7700 900" + pd.Series(range(len(leads))).astype(str).str.zfill(3)
    return x.features(x.write(leads, "leads.csv"))


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)
