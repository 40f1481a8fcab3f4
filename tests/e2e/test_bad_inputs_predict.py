"""Bad inputs of predict against the session champion (`trained`): unseen categories and event types, missing model
columns, model URIs that do not exist or are not allowed, an empty registry, and a bad leads file or output path that
predict must refuse before it loads the model. (The bad files of every command: test_bad_inputs_files.py.)

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import CliResult, Trained
from tests.e2e.bad_inputs import CaseBook, Corpus, Ctx, champion_state, check_case, set_cells

CASES = CaseBook()


@CASES.case("unseen categories", "predict", "proceed",
            "6 values not among the model's training categories are scored as 'other'", "'Asteroid mining' x4",
            "'Atlantis' x2", lines=1)
def c_predict_unseen_categories(x: Ctx) -> list[str]:
    # the logistic regression of the session's training run (runs:/ of the configured store): it groups
    # unseen values as 'other', which is what the warning reports (the points model has no such notion)
    leads = set_cells(x.leads(), "industry", dict.fromkeys(range(4), "Asteroid mining"))
    return x.predict(x.write(set_cells(leads, "country", {10: "Atlantis", 11: "Atlantis"}), "leads.csv"),
                     model_uri=x.base.logreg_uri)


@CASES.case("unknown event types", "predict", "proceed", "7 events of 2 types the model has no features for")
def c_predict_unknown_event_types(x: Ctx) -> list[str]:
    events = x.events()
    odd = events.head(7).assign(event_type=["hologram_call"] * 5 + ["telepathy"] * 2)
    return x.predict(events=x.write(pd.concat([events, odd]), "events.csv"))


@CASES.case("model feature column absent (no industry column)", "predict", "error", "leads.csv",
      "missing 1 column the model was trained with: 'industry'")
def c_predict_missing_inputs(x: Ctx) -> list[str]:
    # issue 13: scored as 'unknown' for every lead the grades collapse; an error, not a warning
    return x.predict(x.write(x.leads().drop(columns=["industry"]), "leads.csv"))


@CASES.case("model feature column present but empty; no --events", "predict", "proceed", "no --events file")
def c_predict_empty_column_no_events(x: Ctx) -> list[str]:
    return x.predict(x.write(x.leads().assign(industry=None), "leads.csv"), events=None)


@CASES.case("model URI that does not exist (version 99)", "predict", "error", "models:/lead-scorer/99", "cannot load model")
def c_predict_missing_version(x: Ctx) -> list[str]:
    return x.predict(model_uri="models:/lead-scorer/99")


@CASES.case("model path that does not exist", "predict", "error", "no model there")
def c_predict_missing_model_path(x: Ctx) -> list[str]:
    return x.predict(model_uri=str(x.d / "no-model"))


@CASES.case("model URI outside the registry (https)", "predict", "error", "https://example.com/model", "is not allowed")
def c_predict_remote_model_uri(x: Ctx) -> list[str]:
    return x.predict(model_uri="https://example.com/model")


def _check_no_store_created(x: Ctx, r: CliResult) -> None:
    assert not (x.d / "empty.db").exists(), "a failed predict must not create a tracking store"


@CASES.case("no champion yet (empty tracking store)", "predict", "error", "models:/lead-scorer@champion", "no champion yet",
            check=_check_no_store_created)
def c_predict_no_champion(x: Ctx) -> list[str]:
    x.env["MLFLOW_TRACKING_URI"] = f"sqlite:///{x.d / 'empty.db'}"
    return x.predict()


@CASES.case("duplicate lead_id (predict)", "predict", "error", "leads.csv", "'lead_id' must be unique")
def c_predict_duplicate_ids(x: Ctx) -> list[str]:
    leads = x.leads()
    leads.loc[2, "lead_id"] = leads.loc[0, "lead_id"]
    return x.predict(x.write(leads, "leads.csv"))


@CASES.case("output folder is a file (predict)", "predict", "error", "notes.txt", "is not a directory")
def c_predict_output_under_file(x: Ctx) -> list[str]:
    x.text("notes.txt", "a file, not a folder")
    return x.predict(output=x.d / "notes.txt" / "scores.parquet")



@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)


def test_champion_and_registry_untouched(bad_corpus: Corpus, trained: Trained) -> None:
    assert champion_state(trained) == bad_corpus.champion_before
