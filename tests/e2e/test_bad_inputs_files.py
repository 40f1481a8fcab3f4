"""Bad input files: unreadable, missing or misplaced files (leads, events, outcomes, truth), for every command.

Files that cannot be read as a table at all (empty, wrong encoding or delimiter, truncated Parquet, a folder),
and one bad leads file run against predict, features, train and backtest alike (issue 13).

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.e2e.bad_inputs import AS_OF, CONFIG, PARTS, CaseBook, Corpus, Ctx, check_case, set_cells

CASES = CaseBook()


@CASES.case("missing file", "features", "error", "nope.csv", "file not found")
def c_missing_file(x: Ctx) -> list[str]:
    return x.features(str(x.d / "nope.csv"))


@CASES.case("empty file (0 bytes)", "features", "error", "leads.csv", "file is empty")
def c_empty_file(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", b""))


@CASES.case("header only", "features", "error", "leads.csv", "no data rows")
def c_header_only(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", ",".join(x.base.leads.columns) + "\n"))


@CASES.case("wrong delimiter (;)", "features", "error", "leads.csv", "must be comma-separated")
def c_wrong_delimiter(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads(), "leads.csv", sep=";"))


@CASES.case("non-UTF-8 bytes (Latin-1 export)", "features", "error", "leads.csv", "not UTF-8", "on line")
def c_non_utf8(x: Ctx) -> list[str]:
    leads = set_cells(x.leads(), "last_name", {2: "Müller"})
    return x.features(x.write(leads, "leads.csv", encoding="latin-1", errors="replace"))


@CASES.case("UTF-16 text (Excel 'Unicode Text')", "features", "error", "leads.csv", "UTF-16")
def c_utf16(x: Ctx) -> list[str]:
    return x.features(x.write(x.leads().head(20), "leads.csv", encoding="utf-16"))


@CASES.case("random bytes named .csv", "features", "error", "leads.csv")
def c_random_bytes_csv(x: Ctx) -> list[str]:
    return x.features(x.text("leads.csv", np.random.default_rng(0).bytes(4096)))


@CASES.case("corrupted Parquet (truncated)", "features", "error", "leads.parquet", "not a readable Parquet")
def c_corrupt_parquet(x: Ctx) -> list[str]:
    path = Path(x.write(x.base.leads.astype(str), "leads.parquet"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return x.features(str(path))


@CASES.case("a directory where a file is expected", "features", "error", "leads.csv", "is a directory")
def c_directory_as_file(x: Ctx) -> list[str]:
    (x.d / "leads.csv").mkdir()
    return x.features(str(x.d / "leads.csv"))


@CASES.case("unsupported file type (.xlsx)", "features", "error", "leads.xlsx", "unsupported file type '.xlsx'")
def c_xlsx(x: Ctx) -> list[str]:
    return x.features(x.text("leads.xlsx", b"PK\x03\x04 not really a workbook"))


@CASES.case("ragged CSV row (extra field)", "features", "error", "leads.csv", "not a readable CSV", "line 5")
def c_ragged_csv(x: Ctx) -> list[str]:
    lines = x.base.leads_csv.read_text().splitlines()
    lines[4] += ",surplus"
    return x.features(x.text("leads.csv", "\n".join(lines) + "\n"))


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
            continue  # this file's first cases already run them against features
        build = (file_case if command in ("predict", "features") else folder_case)(command)
        build.__name__ = f"c_{name}_{command}"
        folder = command in ("train", "backtest")
        shown = FOLDER_NEEDLES.get(name, needles) if folder else needles
        CASES.case(f"{what} ({command})", command, "error", *shown)(build)


for _name, (_what, _needles, _make) in BAD_FILES.items():
    _every_command(_name, _what, _needles, _make)


@CASES.case("missing events file (predict)", "predict", "error", "nope.csv", "file not found")
def c_missing_events_predict(x: Ctx) -> list[str]:
    return x.predict(events=str(x.d / "nope.csv"))


@CASES.case("a directory as the events file (predict)", "predict", "error", "events.csv", "is a directory")
def c_directory_events_predict(x: Ctx) -> list[str]:
    (x.d / "events.csv").mkdir()
    return x.predict(events=str(x.d / "events.csv"))


@CASES.case("missing --outcomes file (predict)", "predict", "error", "nope.parquet", "file not found")
def c_missing_outcomes_predict(x: Ctx) -> list[str]:
    return x.predict() + ["--outcomes", str(x.d / "nope.parquet")]


@CASES.case("missing --truth file (backtest)", "backtest", "error", "nope.parquet", "file not found")
def c_missing_truth_backtest(x: Ctx) -> list[str]:
    return x.backtest(x.data_folder()) + ["--truth", str(x.d / "nope.parquet")]


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)


def test_corpus_has_at_least_30_bad_inputs() -> None:
    books = [importlib.import_module(f"tests.e2e.test_bad_inputs_{part}").CASES for part in PARTS]
    assert sum(len(book) for book in books) >= 30
    assert sum(c.expect == "error" for book in books for c in book.values()) >= 30


def test_debug_shows_the_traceback_for_a_bad_input(bad_corpus: Corpus, tmp_path: Path) -> None:
    leads = bad_corpus.ctx["header_only"].d / "leads.csv"
    result = run_cli("features", "--leads", str(leads), "--as-of", AS_OF, "--output", str(tmp_path / "f.parquet"),
                     "--config", CONFIG, "--debug", cwd=tmp_path)
    assert result.code != 0 and "Traceback" in result.stderr and "InputError" in result.stderr
    assert not (tmp_path / "f.parquet").exists()
