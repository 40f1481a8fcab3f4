"""Issue #7: a corpus of bad inputs, each run through the real CLI in a subprocess.

Every case is built from a 300-lead slice of the session `world` (or, for `predict`, scored with the
session `trained` champion). All subprocesses run in parallel once per module; each case is then one
test. For an error: exit 2, at most three stderr lines naming the file / column / example rows, no
traceback, the previous output file byte-identical, nothing new beside it, no MLflow store created.
For a case where proceeding is right: exit 0 and exactly one warning line per kind, with counts, and
a real output table. Handling rules are documented in `pipeline/inputs/contracts.py`.

Set LEADSCORE_BAD_INPUTS_TABLE=path to also write the markdown summary table (tests/e2e/BAD_INPUTS.md).
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, CliResult, Trained, assert_proceeds_with_warnings, run_cli, run_cli_many
from tests.e2e.test_cli_errors import assert_clean_failure

AS_OF = "2025-10-01"
CONFIG = str(REPO / "configs/default.yaml")
PREVIOUS = b"previous output: every failing command must leave this file byte-identical"
N_LEADS = 300


@dataclass
class Base:
    """A small, clean slice of the sample world: leads created and events before AS_OF."""

    root: Path
    leads: pd.DataFrame
    events: pd.DataFrame
    world: Path
    leads_csv: Path
    events_csv: Path
    logreg_uri: str = ""


@dataclass
class Ctx:
    """One case's folder and helpers to write its inputs and build its command line."""

    d: Path
    base: Base
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.d / "out" / "scores.parquet"

    def leads(self) -> pd.DataFrame:
        return self.base.leads.copy()

    def events(self) -> pd.DataFrame:
        return self.base.events.copy()

    def write(self, frame: pd.DataFrame, name: str, **kwargs: object) -> str:
        path = self.d / name
        if path.suffix == ".parquet":
            frame.to_parquet(path, **kwargs)
        else:
            frame.to_csv(path, index=False, **kwargs)
        return str(path)

    def text(self, name: str, content: str | bytes) -> str:
        path = self.d / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(path)

    def features(self, leads: str | None = None, events: str | None = None, as_of: str = AS_OF,
                 output: Path | str | None = None, config: str = CONFIG) -> list[str]:
        args = ["features", "--leads", leads or str(self.base.leads_csv), "--as-of", as_of,
                "--output", str(output or self.out), "--config", config]
        return args + (["--events", events] if events else [])

    def predict(self, leads: str | None = None, events: str | None = "base", output: Path | str | None = None,
                model_uri: str | None = None) -> list[str]:
        args = ["predict", "--leads", leads or str(self.base.leads_csv), "--as-of", AS_OF,
                "--output", str(output or self.out), "--config", CONFIG]
        if events:
            args += ["--events", str(self.base.events_csv) if events == "base" else events]
        return args + (["--model-uri", model_uri] if model_uri else [])

    def train(self, data: Path | str, config: str = CONFIG) -> list[str]:
        return ["train", "--data", str(data), "--config", config]

    def backtest(self, data: Path | str, config: str = CONFIG) -> list[str]:
        return ["backtest", "--at", AS_OF, "--data", str(data), "--config", config]

    def data_folder(self, outcomes: pd.DataFrame | None = None, leads: pd.DataFrame | None = None,
                    events: pd.DataFrame | None = None, with_outcomes: bool = True) -> Path:
        """A --data folder: the whole world (symlinked) unless leads / events / outcomes are given."""
        folder = self.d / "data"
        folder.mkdir()
        for name in ("leads", "events", "outcomes"):
            frame = {"leads": leads, "events": events, "outcomes": outcomes}.get(name)
            if name == "outcomes" and not with_outcomes:
                continue
            if frame is not None:
                frame.to_parquet(folder / f"{name}.parquet")
            else:
                (folder / f"{name}.parquet").symlink_to(self.base.world / f"{name}.parquet")
        return folder


@dataclass
class Case:
    id: str
    what: str
    command: str  # features | predict | train | backtest
    expect: str  # error | proceed
    needles: tuple[str, ...]
    build: Callable[[Ctx], list[str]]
    check: Callable[[Ctx, CliResult], None] | None = None
    lines: int | None = None  # warning lines expected when proceeding (default: one per needle)


CASES: dict[str, Case] = {}


def case(what: str, command: str, expect: str, *needles: str, check: Callable[[Ctx, CliResult], None] | None = None,
         lines: int | None = None):
    def register(build: Callable[[Ctx], list[str]]) -> Callable[[Ctx], list[str]]:
        name = build.__name__.removeprefix("c_")
        CASES[name] = Case(name, what, command, expect, needles, build, check, lines)
        return build

    return register


def set_cells(frame: pd.DataFrame, column: str, values: dict[int, object]) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    for i, v in values.items():
        frame.loc[i, column] = v
    return frame


# ---------------------------------------------------------------- unreadable files


@case("missing file", "features", "error", "nope.csv", "file not found")
def c_missing_file(x: Ctx) -> list[str]:
    return x.features(str(x.d / "nope.csv"))


@case("empty file (0 bytes)", "features", "error", "leads.csv", "file is empty")
def c_empty_file(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", b""))


@case("header only", "features", "error", "leads.csv", "no data rows")
def c_header_only(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", ",".join(x.base.leads.columns) + "\n"))


@case("wrong delimiter (;)", "features", "error", "leads.csv", "must be comma-separated")
def c_wrong_delimiter(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads(), "leads.csv", sep=";"))


@case("non-UTF-8 bytes (Latin-1 export)", "features", "error", "leads.csv", "not UTF-8", "on line")
def c_non_utf8(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "last_name", {2: "Müller"})
    return x.features(x.write(leads, "leads.csv", encoding="latin-1", errors="replace"))


@case("UTF-16 text (Excel 'Unicode Text')", "features", "error", "leads.csv", "UTF-16")
def c_utf16(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads().head(20), "leads.csv", encoding="utf-16"))


@case("random bytes named .csv", "features", "error", "leads.csv")
def c_random_bytes_csv(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", np.random.default_rng(0).bytes(4096)))


@case("corrupted Parquet (truncated)", "features", "error", "leads.parquet", "not a readable Parquet")
def c_corrupt_parquet(x: Ctx) -> list[str]:
    path = Path(x.write(x.base.leads.astype(str), "leads.parquet"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return x.features(str(path))


@case("a directory where a file is expected", "features", "error", "leads.csv", "is a directory")
def c_directory_as_file(x: Ctx) -> list[str]:
    (x.d / "leads.csv").mkdir()
    return x.features(str(x.d / "leads.csv"))


@case("unsupported file type (.xlsx)", "features", "error", "leads.xlsx", "unsupported file type '.xlsx'")
def c_xlsx(x: Ctx) -> list[str]:
    return x.features(x.text("leads.xlsx", b"PK\x03\x04 not really a workbook"))


@case("ragged CSV row (extra field)", "features", "error", "leads.csv", "not a readable CSV", "line 5")
def c_ragged_csv(x: Ctx) -> list[str]:
    lines = x.base.leads_csv.read_text().splitlines()
    lines[4] += ",surplus"
    return x.features(x.text("leads.csv", "\n".join(lines) + "\n"))


# ---------------------------------------------------------------- lead contract errors


@case("missing required column (created_at)", "features", "error", "leads.csv", "missing required column 'created_at'")
def c_missing_required_column(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads().drop(columns=["created_at"]), "leads.csv"))


@case("duplicate lead_id", "features", "error", "leads.csv", "'lead_id' must be unique", "rows 2, 5")
def c_duplicate_lead_id(x: Ctx) -> list[str]:
    leads = x.leads()
    leads.loc[4, "lead_id"] = leads.loc[1, "lead_id"]
    return x.features(x.write(leads, "leads.csv"))


@case("null lead_id", "features", "error", "leads.csv", "'lead_id' has 1 empty ids, rows 7")
def c_null_lead_id(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "lead_id", {6: None}), "leads.csv"))


@case("unparseable date", "features", "error", "leads.csv", "'created_at'", "rows 4 ('yesterday')")
def c_unparseable_date(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {3: "yesterday"}), "leads.csv"))


@case("mixed-format dates (03/01/2025, 1 March 2025)", "features", "error", "'created_at' has 2 values that are not ISO dates",
      "rows 2, 6")
def c_mixed_format_dates(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {1: "03/01/2025", 5: "1 March 2025"}), "leads.csv"))


@case("empty created_at", "features", "error", "leads.csv", "'created_at' has 1 empty dates, rows 9")
def c_empty_dates(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "created_at", {8: None}), "leads.csv"))


@case("dates as numbers (epoch seconds)", "features", "error", "'created_at' holds numbers, not dates")
def c_numeric_dates(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["created_at"] = pd.to_datetime(leads["created_at"]).astype("int64") // 10**9
    return x.features(x.write(leads, "leads.csv"))


@case("numeric column that is all text (employees: 'many')", "features", "error", "'employees' should hold numbers",
      "rows 1, 2, 3")
def c_numeric_column_all_text(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["employees"] = np.where(np.arange(len(leads)) % 2, "many", "few")
    return x.features(x.write(leads, "leads.csv"))


@case("two columns mapped to one role", "features", "error", "two columns map to 'employees'")
def c_two_columns_one_role(x: Ctx) -> list[str]:
    leads = x.leads().assign(Headcount=50)
    cfg = x.text("cfg.yaml", "data:\n  lead_columns:\n    employees: Headcount\n")
    return x.features(x.write(leads, "leads.csv"), config=cfg)


@case("no lead created before --as-of", "features", "error", "no lead was created before 2020-01-01")
def c_all_leads_after_as_of(x: Ctx) -> list[str]:
    return x.features(as_of="2020-01-01")


@case("empty --as-of", "features", "error", "--as-of ''", "not a date")
def c_empty_as_of(x: Ctx) -> list[str]:
    return x.features(as_of="")


# ---------------------------------------------------------------- event contract errors


@case("events: missing event_type column", "features", "error", "events.csv", "missing required column 'event_type'")
def c_events_missing_column(x: Ctx) -> list[str]:
    return x.features(events=x.write(x.events().drop(columns=["event_type"]), "events.csv"))


@case("events: unparseable timestamp", "features", "error", "events.csv", "'timestamp'", "rows 11 ('soon')")
def c_events_bad_timestamp(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "timestamp", {10: "soon"}), "events.csv"))


@case("events: null lead_id", "features", "error", "events.csv", "'lead_id' has 2 empty values, rows 3, 4")
def c_events_null_lead_id(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "lead_id", {2: None, 3: None}), "events.csv"))


# ---------------------------------------------------------------- outputs and config


@case("output in a missing folder", "features", "error", "output folder", "does not exist")
def c_output_missing_folder(x: Ctx) -> list[str]:
    return x.features(output=x.d / "nowhere" / "f.parquet")


@case("output folder is a file (read-only stand-in)", "features", "error", "notes.txt", "is not a directory")
def c_output_under_file(x: Ctx) -> list[str]:
    x.text("notes.txt", "a file, not a folder")
    return x.features(output=x.d / "notes.txt" / "f.parquet")


@case("output path is a directory", "features", "error", "dir.parquet", "is a directory")
def c_output_is_directory(x: Ctx) -> list[str]:
    (x.d / "dir.parquet").mkdir()
    return x.features(output=x.d / "dir.parquet")


@case("output with unsupported suffix (.json)", "features", "error", "scores.json", "unsupported output type")
def c_output_bad_suffix(x: Ctx) -> list[str]:
    return x.features(output=x.d / "out" / "scores.json")


@case("config: unknown key", "features", "error", "cfg.yaml", "unknown key 'data.lead_colums'",
      "did you mean 'data.lead_columns'")
def c_config_unknown_key(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "data:\n  lead_colums:\n    lead_id: id\n"))


@case("config: wrong type", "features", "error", "cfg.yaml", "'training.horizon_days'", "'ninety'")
def c_config_wrong_type(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "training:\n  horizon_days: ninety\n"))


@case("config: missing file", "features", "error", "nope.yaml", "config file not found")
def c_config_missing_file(x: Ctx) -> list[str]:
    return x.features(config=str(x.d / "nope.yaml"))


@case("config: a directory", "features", "error", "cfgdir", "is a directory")
def c_config_is_directory(x: Ctx) -> list[str]:
    (x.d / "cfgdir").mkdir()
    return x.features(config=str(x.d / "cfgdir"))


@case("config: invalid YAML", "features", "error", "cfg.yaml", "not valid YAML")
def c_config_bad_yaml(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "data: [unclosed\n"))


# ---------------------------------------------------------------- proceed, with one warning per kind


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


def _check_all_rows(x: Ctx, r: CliResult) -> None:
    assert len(pd.read_parquet(x.out)) == N_LEADS


@case("a UTF-8 BOM", "features", "proceed", check=_check_bom)
def c_bom(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads(), "leads.csv", encoding="utf-8-sig"))


@case("ids with leading zeros (000123)", "features", "proceed", check=_check_ids_kept)
def c_leading_zero_ids(x: Ctx) -> list[str]:
    leads, events = x.leads(), x.events()
    ids = {old: f"{i + 1:06d}" for i, old in enumerate(leads["lead_id"])}
    leads["lead_id"] = leads["lead_id"].map(ids)
    events["lead_id"] = events["lead_id"].map(ids)
    return x.features(x.write(leads, "leads.csv"), x.write(events, "events.csv"))


@case("CRM number formats (51-200, 1,200, 10,000+, $1.5M)", "features", "proceed", check=_check_crm_numbers)
def c_crm_number_formats(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "employees", {0: "51-200", 1: "1,200", 2: "10,000+"})
    leads = set_cells(leads, "annual_revenue", {0: "$1.5M"})
    return x.features(x.write(leads, "leads.csv"))


@case("events of unknown leads", "features", "proceed", "5 events of 3 leads not in the leads file were ignored",
      check=_check_all_rows)
def c_events_of_unknown_leads(x: Ctx) -> list[str]:
    events = x.events()
    ghosts = events.head(5).assign(lead_id=["ghost-1", "ghost-1", "ghost-2", "ghost-3", "ghost-3"])
    return x.features(x.write(x.leads(), "leads.csv"), x.write(pd.concat([events, ghosts]), "events.csv"))


@case("timestamps after --as-of (a few leads and events)", "features", "proceed",
      "2 leads created at or after 2025-10-01 00:00:00 were left out", "4 events at or after 2025-10-01 00:00:00 were ignored",
      check=_check_all_rows)
def c_future_timestamps(x: Ctx) -> list[str]:
    leads, events = x.leads(), x.events()
    late = leads.head(2).assign(lead_id=["late-1", "late-2"], created_at=pd.Timestamp("2026-01-05"))
    future = events.head(4).assign(timestamp=pd.Timestamp("2030-01-01"))
    return x.features(x.write(pd.concat([leads, late]), "leads.csv"), x.write(pd.concat([events, future]), "events.csv"))


@case("text in a numeric column (employees: 'about 50')", "features", "proceed",
      "2 values that are not numbers count as missing ('employees' 2, rows 3, 7 ('about 50', 'n/a?'))", check=_check_all_rows)
def c_text_in_numeric(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {2: "about 50", 6: "n/a?"}), "leads.csv"))


@case("text in a generic numeric column", "features", "proceed",
      "2 values that are not numbers count as missing ('fit_points' 2, rows 4, 9", check=_check_all_rows)
def c_text_in_generic_numeric(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["fit_points"] = [str(i % 17) for i in range(len(leads))]
    return x.features(x.write(set_cells(leads, "fit_points", {3: "unknown", 8: "tbd"}), "leads.csv"))


@case("NaN and inf", "features", "proceed", "2 infinite values count as missing", "'employees' 1, rows 2 (inf)",
      "'annual_revenue' 1, rows 5 (-inf)", check=_check_all_rows, lines=1)
def c_nan_and_inf(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "employees", {1: float("inf"), 5: float("nan")})
    return x.features(x.write(set_cells(leads, "annual_revenue", {4: float("-inf"), 7: None}), "leads.csv"))


@case("negative employee counts", "features", "proceed",
      "2 negative values count as missing ('employees' 2, rows 1, 10 (-5.0, -1.0))", check=_check_all_rows)
def c_negative_employees(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {0: -5, 9: -1}), "leads.csv"))


@case("absurdly large values (5e9 employees)", "features", "proceed",
      "1 implausibly large values count as missing ('employees' 1, rows 4", check=_check_all_rows)
def c_absurd_large(x: Ctx) -> list[str]:
    return x.features(x.write(set_cells(x.leads(), "employees", {3: 5_000_000_000}), "leads.csv"))


@case("10,000-character strings", "features", "proceed",
      "2 text cells longer than 1,000 characters were cut to 1,000 ('job_title' 1, rows 4", check=_check_all_rows)
def c_long_strings(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "job_title", {3: "Chief " + "x" * 10_000})
    return x.features(x.write(set_cells(leads, "company", {4: "Acme " * 2_000}), "leads.csv"))


@case("unmapped columns with personal data", "features", "proceed", "3 columns look like personal data",
      "'contact_email' (e-mail addresses)",
      "'Full Name' (its name)", "'mobile' (phone numbers)", check=_check_no_personal_columns, lines=1)
def c_unmapped_personal_columns(x: Ctx) -> list[str]:
    leads = x.leads()
    leads["contact_email"] = "x" + leads["email"].astype(str)
    leads["Full Name"] = leads["first_name"].astype(str) + " " + leads["last_name"].astype(str)
    leads["mobile"] = "+44 7700 900" + pd.Series(range(len(leads))).astype(str).str.zfill(3)
    return x.features(x.write(leads, "leads.csv"))


@case("events: header only", "features", "proceed", "no events (header only)", check=_check_all_rows)
def c_events_header_only(x: Ctx) -> list[str]:
    return x.features(events=x.text("events.csv", ",".join(x.base.events.columns) + "\n"))


@case("events: empty event_type", "features", "proceed", "3 events without an event type count as 'unknown'",
      check=_check_all_rows)
def c_events_empty_type(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "event_type", {0: None, 1: "", 2: None}), "events.csv"))


@case("events: text in value", "features", "proceed", "2 event values that are not numbers count as missing",
      check=_check_all_rows)
def c_events_text_value(x: Ctx) -> list[str]:
    return x.features(events=x.write(set_cells(x.events(), "value", {5: "lots", 6: "some"}), "events.csv"))


# ---------------------------------------------------------------- predict (session champion)


@case("unseen categories", "predict", "proceed", "6 values not among the model's training categories are scored as 'other'",
      "'Asteroid mining' x4", "'Atlantis' x2", lines=1)
def c_predict_unseen_categories(x: Ctx) -> list[str]:
    # the logistic regression of the session's training run (runs:/ of the configured store): it groups
    # unseen values as 'other', which is what the warning reports (the points model has no such notion)
    leads = set_cells(x.leads(), "industry", dict.fromkeys(range(4), "Asteroid mining"))
    return x.predict(x.write(set_cells(leads, "country", {10: "Atlantis", 11: "Atlantis"}), "leads.csv"),
                     model_uri=x.base.logreg_uri)


@case("unknown event types", "predict", "proceed", "7 events of 2 types the model has no features for")
def c_predict_unknown_event_types(x: Ctx) -> list[str]:
    events = x.events()
    odd = events.head(7).assign(event_type=["hologram_call"] * 5 + ["telepathy"] * 2)
    return x.predict(events=x.write(pd.concat([events, odd]), "events.csv"))


@case("model feature column absent (no industry column)", "predict", "error", "leads.csv",
      "missing 1 column the model was trained with: 'industry'")
def c_predict_missing_inputs(x: Ctx) -> list[str]:
    # issue 13: scored as 'unknown' for every lead the grades collapse; an error, not a warning
    return x.predict(x.write(x.leads().drop(columns=["industry"]), "leads.csv"))


@case("model feature column present but empty; no --events", "predict", "proceed", "no --events file")
def c_predict_empty_column_no_events(x: Ctx) -> list[str]:
    return x.predict(x.write(x.leads().assign(industry=None), "leads.csv"), events=None)


@case("duplicate lead_id (predict)", "predict", "error", "leads.csv", "'lead_id' must be unique")
def c_predict_duplicate_ids(x: Ctx) -> list[str]:
    leads = x.leads()
    leads.loc[2, "lead_id"] = leads.loc[0, "lead_id"]
    return x.predict(x.write(leads, "leads.csv"))


@case("model URI that does not exist (version 99)", "predict", "error", "models:/lead-scorer/99", "cannot load model")
def c_predict_missing_version(x: Ctx) -> list[str]:
    return x.predict(model_uri="models:/lead-scorer/99")


@case("model path that does not exist", "predict", "error", "no model there")
def c_predict_missing_model_path(x: Ctx) -> list[str]:
    return x.predict(model_uri=str(x.d / "no-model"))


@case("model URI outside the registry (https)", "predict", "error", "https://example.com/model", "is not allowed")
def c_predict_remote_model_uri(x: Ctx) -> list[str]:
    return x.predict(model_uri="https://example.com/model")


def _check_no_store_created(x: Ctx, r: CliResult) -> None:
    assert not (x.d / "empty.db").exists(), "a failed predict must not create a tracking store"


@case("no champion yet (empty tracking store)", "predict", "error", "models:/lead-scorer@champion", "no champion yet", check=_check_no_store_created)
def c_predict_no_champion(x: Ctx) -> list[str]:
    x.env["MLFLOW_TRACKING_URI"] = f"sqlite:///{x.d / 'empty.db'}"
    return x.predict()


@case("output folder is a file (predict)", "predict", "error", "notes.txt", "is not a directory")
def c_predict_output_under_file(x: Ctx) -> list[str]:
    x.text("notes.txt", "a file, not a folder")
    return x.predict(output=x.d / "notes.txt" / "scores.parquet")


# ---------------------------------------------------------------- train (fails during validation)

STATIC = "data:\n  mode: static\n  lead_columns:\n    label: converted\n"


@case("labels of one class only (static mode)", "train", "error", "label column 'converted' has one class only")
def c_train_one_class(x: Ctx) -> list[str]:
    cfg = x.text("cfg.yaml", STATIC)
    return x.train(x.write(x.leads().assign(converted=0), "leads.csv"), cfg)


@case("no conversions at all", "train", "error", "outcomes.parquet", "no conversions to learn from")
def c_train_no_conversions(x: Ctx) -> list[str]:
    outcomes = pd.read_parquet(x.base.world / "outcomes.parquet").assign(converted_at=pd.NaT)
    return x.train(x.data_folder(outcomes=outcomes))


@case("too few conversions", "train", "error", "training needs at least 40 converted")
def c_train_too_few_conversions(x: Ctx) -> list[str]:
    outcomes = pd.read_parquet(x.base.world / "outcomes.parquet")
    converted = outcomes.index[outcomes["converted_at"].notna()]
    outcomes.loc[converted[5:], "converted_at"] = pd.NaT
    return x.train(x.data_folder(outcomes=outcomes))


@case("no outcomes file", "train", "error", "no 'outcomes' file")
def c_train_missing_outcomes(x: Ctx) -> list[str]:
    return x.train(x.data_folder(with_outcomes=False))


# ---------------------------------------------------------------- one bad file, every command (issue 13)
# predict and features take the file itself; train and backtest a --data folder holding it (the other
# files of the world symlinked), so every case fails while the data is read: no model is trained.


def _data_with_leads(x: Ctx, make: Callable[[Path], None]) -> Path:
    folder = x.d / "data"
    folder.mkdir()
    for name in ("events", "outcomes"):
        (folder / f"{name}.parquet").symlink_to(x.base.world / f"{name}.parquet")
    make(folder / "leads.csv")
    return folder


def _duplicate_header(x: Ctx, path: Path) -> None:
    text = x.base.leads_csv.read_text()
    header, rest = text.split("\n", 1)
    path.write_text(header.replace(",country,", ",email,") + "\n" + rest)


BAD_FILES: dict[str, tuple[str, tuple[str, ...], Callable[[Ctx, Path], None]]] = {
    # name: (what, needles (a --data folder without a leads file: FOLDER_NEEDLES), write the bad leads file)
    "missing": ("missing leads file", ("leads.csv", "file not found"), lambda x, p: None),
    "directory": ("a directory as the leads file", ("leads.csv", "is a directory"), lambda x, p: p.mkdir()),
    "duplicate_column": ("duplicate column names (two 'email')", ("leads.csv", "column 'email' appears twice"),
                         _duplicate_header),
}
FOLDER_NEEDLES = {"missing": ("data", "no 'leads' file (.parquet or .csv) in this folder")}
COVERED_FOR_FEATURES = {"missing": "missing_file", "directory": "directory_as_file"}  # name: the existing case


def _every_command(name: str, what: str, needles: tuple[str, ...], make: Callable[[Ctx, Path], None]) -> None:
    def file_case(command: str) -> Callable[[Ctx], list[str]]:
        def build(x: Ctx) -> list[str]:
            path = x.d / "leads.csv"
            make(x, path)
            return x.predict(str(path)) if command == "predict" else x.features(str(path))
        return build

    def folder_case(command: str) -> Callable[[Ctx], list[str]]:
        def build(x: Ctx) -> list[str]:
            folder = _data_with_leads(x, lambda p: make(x, p))
            return x.train(folder) if command == "train" else x.backtest(folder)
        return build

    for command in ("predict", "features", "train", "backtest"):
        if command == "features" and name in COVERED_FOR_FEATURES:
            continue  # the corpus's first cases already run them against features
        build = (file_case if command in ("predict", "features") else folder_case)(command)
        build.__name__ = f"c_{name}_{command}"
        folder = command in ("train", "backtest")
        case(f"{what} ({command})", command, "error", *(FOLDER_NEEDLES.get(name, needles) if folder else needles))(build)


for _name, (_what, _needles, _make) in BAD_FILES.items():
    _every_command(_name, _what, _needles, _make)


@case("missing events file (predict)", "predict", "error", "nope.csv", "file not found")
def c_missing_events_predict(x: Ctx) -> list[str]:
    return x.predict(events=str(x.d / "nope.csv"))


@case("a directory as the events file (predict)", "predict", "error", "events.csv", "is a directory")
def c_directory_events_predict(x: Ctx) -> list[str]:
    (x.d / "events.csv").mkdir()
    return x.predict(events=str(x.d / "events.csv"))


@case("missing --outcomes file (predict)", "predict", "error", "nope.parquet", "file not found")
def c_missing_outcomes_predict(x: Ctx) -> list[str]:
    return x.predict() + ["--outcomes", str(x.d / "nope.parquet")]


@case("missing --truth file (backtest)", "backtest", "error", "nope.parquet", "file not found")
def c_missing_truth_backtest(x: Ctx) -> list[str]:
    return x.backtest(x.data_folder()) + ["--truth", str(x.d / "nope.parquet")]


# ---------------------------------------------------------------- running the corpus


def incidental(line: str) -> bool:
    """Warnings every corpus predict gets, whatever the case: it scores odd populations (every lead, far
    from the training period), so drift and the age of its leads are expected there (tested in
    test_drift_cli.py and test_trust.py)."""
    return line.startswith("drift above PSI") or "older than training.max_lead_age_days" in line


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def champion_state(trained: Trained) -> tuple[str, str, int]:
    client = MlflowClient(trained.uri, registry_uri=trained.uri)
    versions = client.search_model_versions("name='lead-scorer'")
    return (client.get_model_version_by_alias("lead-scorer", "champion").version,
            client.get_model_version_by_alias("lead-scorer", "challenger").version, len(versions))


@dataclass
class Corpus:
    ctx: dict[str, Ctx]
    results: dict[str, CliResult]
    before: dict[str, dict[str, bytes]]
    champion_before: tuple[str, str, int]
    seconds: float


def make_base(world: Path, root: Path) -> Base:
    leads = pd.read_parquet(world / "leads.parquet")
    leads = leads[leads["created_at"] < AS_OF].head(N_LEADS).reset_index(drop=True)
    events = pd.read_parquet(world / "events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"]) & (events["timestamp"] < AS_OF)].reset_index(drop=True)
    base = Base(root, leads, events, world, root / "leads.csv", root / "events.csv")
    leads.to_csv(base.leads_csv, index=False)
    events.to_csv(base.events_csv, index=False)
    return base


@pytest.fixture(scope="module")
def corpus(world: Path, trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("bad_inputs")
    base = make_base(world, root)
    client = MlflowClient(trained.uri, registry_uri=trained.uri)
    runs = client.search_runs([client.get_experiment_by_name("lead-scoring").experiment_id], "tags.model_name = 'logreg'")
    base.logreg_uri = f"runs:/{runs[0].info.run_id}/model"
    champion_before = champion_state(trained)
    ctxs, calls, before = {}, {}, {}
    for cid, spec in CASES.items():
        d = root / cid
        (d / "out").mkdir(parents=True)
        (d / "out" / "scores.parquet").write_bytes(PREVIOUS)
        x = Ctx(d, base, dict(trained.env) if spec.command == "predict" else {"MLFLOW_TRACKING_URI": f"sqlite:///{d / 'mlflow.db'}"})
        # errors run as users run them (progress lines included: still at most 3 lines); proceeding
        # cases with --quiet, so that stderr holds exactly the expected warnings
        x.args = spec.build(x) + (["--quiet"] if spec.expect == "proceed" else [])
        ctxs[cid], before[cid] = x, folder_state(d / "out")
        calls[cid] = {"args": x.args, "cwd": d, "env": x.env}
    start = time.perf_counter()
    results = run_cli_many(calls)
    corpus = Corpus(ctxs, results, before, champion_before, time.perf_counter() - start)
    if os.environ.get("LEADSCORE_BAD_INPUTS_TABLE"):
        write_table(corpus, Path(os.environ["LEADSCORE_BAD_INPUTS_TABLE"]))
    return corpus


def test_corpus_has_at_least_30_bad_inputs():
    assert len(CASES) >= 30
    assert sum(c.expect == "error" for c in CASES.values()) >= 30


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(corpus: Corpus, cid: str):
    spec, x, result = CASES[cid], corpus.ctx[cid], corpus.results[cid]
    if spec.expect == "error":
        assert_clean_failure(result, *spec.needles)
        assert result.stderr.strip().splitlines()[-1].startswith("leadscore: error: "), result.stderr
        assert folder_state(x.d / "out") == corpus.before[cid], "previous output changed or a file appeared beside it"
        assert not list(x.d.rglob("*.tmp")), "temporary files left behind"
        if spec.command != "predict":
            assert not (x.d / "mlflow.db").exists(), "a failed input check must not create a tracking store"
    else:
        lines = assert_proceeds_with_warnings(result, *spec.needles)
        lines = [line for line in lines if not incidental(line)]
        expected = len(spec.needles) if spec.lines is None else spec.lines
        assert len(lines) == expected, f"expected exactly the warnings {spec.needles}, got {lines}"
        assert pd.read_parquet(x.out).shape[0] > 0
    if spec.check:
        spec.check(x, result)


def test_debug_shows_the_traceback_for_a_bad_input(corpus: Corpus, tmp_path: Path):
    leads = corpus.ctx["header_only"].d / "leads.csv"
    result = run_cli("features", "--leads", str(leads), "--as-of", AS_OF, "--output", str(tmp_path / "f.parquet"),
                     "--config", CONFIG, "--debug", cwd=tmp_path)
    assert result.code != 0 and "Traceback" in result.stderr and "InputError" in result.stderr
    assert not (tmp_path / "f.parquet").exists()


def test_champion_and_registry_untouched(corpus: Corpus, trained: Trained):
    assert champion_state(trained) == corpus.champion_before


SAFETY = """
## Interruptions and personal data (tests/e2e/test_bad_inputs_safety.py)

| scenario | command | checked |
|---|---|---|
| SIGKILL 1 s after start (imports) | `leadscore predict` | previous scores byte-identical, nothing beside them, champion unchanged |
| SIGKILL after "Scoring with ..." (model loaded, scoring) | `leadscore predict` | same |
| SIGKILL inside the atomic write (data written, not yet renamed; fault injection) | `leadscore predict` | same: the O_TMPFILE inode vanishes with the process |
| SIGTERM inside the atomic write | `leadscore predict` | exit 143, one line `leadscore: interrupted (SIGTERM); no output was replaced`, same |
| SIGKILL while building examples / while training / just before the gate records (fault injection) | `leadscore retrain` | SQLite `integrity_check` ok, `champion` unchanged and loads, no temp files |
| every e-mail, phone (>= 9 digits, >= 3 distinct digits) and full name of the 2,000 input leads | `leadscore retrain` + `predict` | none in mlflow.db or any artifact (regex tokens per file, set lookups) |
"""


def write_table(corpus: Corpus, path: Path) -> None:
    """The issue's summary table: bad input | command used | exit code | message | handling."""
    rows = ["# Bad inputs: what leadscore does with them", "",
            "Generated by `LEADSCORE_BAD_INPUTS_TABLE=tests/e2e/BAD_INPUTS.md pytest tests/e2e/test_bad_inputs.py`; "
            "every row is a test. Errors exit 2 with at most three stderr lines, leave the previous output "
            "byte-identical and create nothing; proceeding cases warn once per kind with counts "
            "(rules: `pipeline/inputs/contracts.py`). Paths are shown relative to each case's folder.", "",
            "| # | bad input | command used | exit code | message (first 100 chars) | handling |",
            "|---|---|---|---|---|---|"]
    for i, (cid, spec) in enumerate(CASES.items(), 1):
        x, r = corpus.ctx[cid], corpus.results[cid]
        local = (str(x.d) + "/", str(x.d.parent) + "/")
        args, skip = [], False
        for j, a in enumerate(x.args):
            if skip or a == "--quiet" or (a == "--config" and x.args[j + 1] == CONFIG):
                skip = a == "--config"
                continue
            a = re.sub(r"^runs:/[0-9a-f]{32}/", "runs:/<logreg run>/", a)
            args.append(a.replace(local[0], "").replace(local[1], "") or "''")
        lines = [line for line in r.stderr.splitlines() if line.strip() and not incidental(line)]
        if spec.expect == "error":
            lines = [line for line in lines if line.startswith("leadscore: error: ")] or lines
        message = " / ".join(lines).replace(local[0], "").replace(local[1], "").replace("|", "\\|")[:100]
        handling = "error" if spec.expect == "error" else ("proceed + warn" if spec.needles else "proceed (no warning)")
        rows.append(f"| {i} | {spec.what} | `leadscore {' '.join(args)}` | {r.code} | {message or '(none)'} | {handling} |")
    path.write_text("\n".join(rows) + "\n" + SAFETY)
