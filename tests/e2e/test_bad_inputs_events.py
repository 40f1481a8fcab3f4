"""Bad events files: the event contract's errors, and the event problems that proceed with one warning.

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.e2e.bad_inputs import CaseBook, Corpus, Ctx, check_all_rows, check_case, set_cells

CASES = CaseBook()


@CASES.case("events: missing event_type column", "features", "error", "events.csv", "missing required column 'event_type'")
def c_events_missing_column(x: Ctx) -> list[str]:
    return x.features(events=x.write(x.events().drop(columns=["event_type"]), "events.csv"))


@CASES.case("events: unparseable timestamp", "features", "error", "events.csv", "'timestamp'", "rows 11 ('soon')")
def c_events_bad_timestamp(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "timestamp", {10: "soon"}), "events.csv"))


@CASES.case("events: null lead_id", "features", "error", "events.csv", "'lead_id' has 2 empty values, rows 3, 4")
def c_events_null_lead_id(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "lead_id", {2: None, 3: None}), "events.csv"))


@CASES.case("events of unknown leads", "features", "proceed", "5 events of 3 leads not in the leads file were ignored",
      check=check_all_rows)
def c_events_of_unknown_leads(x: Ctx) -> list[str]:
    events = x.events()
    ghosts = events.head(5).assign(lead_id=["ghost-1", "ghost-1", "ghost-2", "ghost-3", "ghost-3"])
    return x.features(x.write(x.leads(), "leads.csv"), x.write(pd.concat([events, ghosts]), "events.csv"))


@CASES.case("events: header only", "features", "proceed", "no events (header only)", check=check_all_rows)
def c_events_header_only(x: Ctx) -> list[str]:
    return x.features(events=x.text("events.csv", ",".join(x.base.events.columns) + "\n"))


@CASES.case("events: empty event_type", "features", "proceed", "3 events without an event type count as 'unknown'",
      check=check_all_rows)
def c_events_empty_type(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "event_type", {0: None, 1: "", 2: None}), "events.csv"))


@CASES.case("events: text in value", "features", "proceed", "2 event values that are not numbers count as missing",
      check=check_all_rows)
def c_events_text_value(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "value", {5: "lots", 6: "some"}), "events.csv"))


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)
