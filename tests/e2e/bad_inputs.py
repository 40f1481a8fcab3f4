"""The machinery of the bad-input corpus (tests/e2e/test_bad_inputs_<part>.py, PARTS): cases, their folders, one run.

Every case is built from a 300-lead slice of the session `world` (or, for `predict`, scored with the
session `trained` champion; only files with predict cases ask for it). A file's cases run through the real
CLI in parallel subprocesses once per module (the `bad_corpus` fixture in tests/e2e/conftest.py); each case is
then one test. For an error:
exit 2, at most three stderr lines naming the file / column / example rows, no traceback, the previous
output file byte-identical, nothing new beside it, no MLflow store created, the champion untouched.
For a case where proceeding is right: exit 0 and exactly one warning line per kind, with counts, and a
real output table. Handling rules are documented in `pipeline/inputs/contracts.py`.

Set LEADSCORE_BAD_INPUTS_TABLE=path to also write the markdown summary table (tests/e2e/BAD_INPUTS.md);
run without pytest-xdist then, so that one session sees every file's cases.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, CliResult, Trained, assert_proceeds_with_warnings, run_cli_many
from tests.e2e.test_cli_errors import assert_clean_failure

AS_OF = "2025-10-01"
CONFIG = str(REPO / "configs/default.yaml")
PREVIOUS = b"previous output: every failing command must leave this file byte-identical"
N_LEADS = 300
PARTS = ("files", "leads", "events", "config", "predict", "training")  # tests/e2e/test_bad_inputs_<part>.py


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


class CaseBook(dict[str, Case]):
    """One file's cases by id (the build function's name without `c_`), registered with `@CASES.case(...)`."""

    def case(self, what: str, command: str, expect: str, *needles: str,
             check: Callable[[Ctx, CliResult], None] | None = None,
             lines: int | None = None) -> Callable[[Callable[[Ctx], list[str]]], Callable[[Ctx], list[str]]]:
        def register(build: Callable[[Ctx], list[str]]) -> Callable[[Ctx], list[str]]:
            name = build.__name__.removeprefix("c_")
            assert name not in self, f"case {name} registered twice"
            self[name] = Case(name, what, command, expect, needles, build, check, lines)
            return build

        return register


def set_cells(frame: pd.DataFrame, column: str, values: dict[int, object]) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    for i, v in values.items():
        frame.loc[i, column] = v
    return frame


def check_all_rows(x: Ctx, r: CliResult) -> None:
    """A proceeding case kept every lead of the slice."""
    assert len(pd.read_parquet(x.out)) == N_LEADS


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
    """One file's cases after their run: contexts and results by case id, the previous outputs, and the
    champion before and after (None when no case of the file predicts)."""

    cases: CaseBook
    ctx: dict[str, Ctx]
    results: dict[str, CliResult]
    before: dict[str, dict[str, bytes]]
    champion_before: tuple[str, str, int] | None
    champion_after: tuple[str, str, int] | None
    seconds: float
    part: str = ""  # the file's part (PARTS): the table lists the parts in that order


def make_base(world: Path, root: Path) -> Base:
    leads = pd.read_parquet(world / "leads.parquet")
    leads = leads[leads["created_at"] < AS_OF].head(N_LEADS).reset_index(drop=True)
    events = pd.read_parquet(world / "events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"]) & (events["timestamp"] < AS_OF)].reset_index(drop=True)
    base = Base(root, leads, events, world, root / "leads.csv", root / "events.csv")
    leads.to_csv(base.leads_csv, index=False)
    events.to_csv(base.events_csv, index=False)
    return base


def logreg_uri(trained: Trained) -> str:
    """The logistic regression of the session's training run (runs:/ of its store)."""
    client = MlflowClient(trained.uri, registry_uri=trained.uri)
    runs = client.search_runs([client.get_experiment_by_name("lead-scoring").experiment_id], "tags.model_name = 'logreg'")
    return f"runs:/{runs[0].info.run_id}/model"


def run_corpus(cases: CaseBook, base: Base, root: Path, trained: Trained | None) -> Corpus:
    """Build every case's folder and command line, then run them all in parallel subprocesses. Predict
    cases use the session champion (`trained`); the others get a tracking store of their own that a
    failed input check must never create."""
    champion_before = champion_state(trained) if trained is not None else None
    ctxs, calls, before = {}, {}, {}
    for cid, spec in cases.items():
        d = root / cid
        (d / "out").mkdir(parents=True)
        (d / "out" / "scores.parquet").write_bytes(PREVIOUS)
        if spec.command == "predict":
            assert trained is not None, f"{cid}: predict cases need the session champion"
            env = dict(trained.env)
        else:
            env = {"MLFLOW_TRACKING_URI": f"sqlite:///{d / 'mlflow.db'}"}
        x = Ctx(d, base, env)
        # errors run as users run them (progress lines included: still at most 3 lines); proceeding
        # cases with --quiet, so that stderr holds exactly the expected warnings
        x.args = spec.build(x) + (["--quiet"] if spec.expect == "proceed" else [])
        ctxs[cid], before[cid] = x, folder_state(d / "out")
        calls[cid] = {"args": x.args, "cwd": d, "env": x.env}
    start = time.perf_counter()
    results = run_cli_many(calls)
    seconds = time.perf_counter() - start
    champion_after = champion_state(trained) if trained is not None else None
    return Corpus(cases, ctxs, results, before, champion_before, champion_after, seconds)


def check_case(corpus: Corpus, cid: str) -> None:
    """What every bad input must get (see the module docstring), then the case's own check."""
    spec, x, result = corpus.cases[cid], corpus.ctx[cid], corpus.results[cid]
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
    if spec.command == "predict":
        assert corpus.champion_after == corpus.champion_before, "a bad input moved the champion or added a version"
    if spec.check:
        spec.check(x, result)


# ---------------------------------------------------------------- the summary table (BAD_INPUTS.md)


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
"""  # noqa: E501 - markdown table rows cannot wrap


def _relative(text: str, folders: tuple[str, ...]) -> str:
    for folder in folders:
        text = text.replace(folder, "")
    return text


def write_table(corpora: list[Corpus], path: Path) -> None:
    """The issue's summary table: bad input | command used | exit code | message | handling."""
    rows = ["# Bad inputs: what leadscore does with them", "",
            "Generated by `LEADSCORE_BAD_INPUTS_TABLE=tests/e2e/BAD_INPUTS.md pytest -p no:xdist "
            "tests/e2e/test_bad_inputs_{files,leads,events,config,predict,training}.py`; "
            "every row is a test. Errors exit 2 with at most three stderr lines, leave the previous output "
            "byte-identical and create nothing; proceeding cases warn once per kind with counts "
            "(rules: `pipeline/inputs/contracts.py`). Paths are shown relative to each case's folder.", "",
            "| # | bad input | command used | exit code | message (first 100 chars) | handling |",
            "|---|---|---|---|---|---|"]
    ordered = sorted(corpora, key=lambda c: PARTS.index(c.part) if c.part in PARTS else len(PARTS))
    every = [(corpus, cid, spec) for corpus in ordered for cid, spec in corpus.cases.items()]
    for i, (corpus, cid, spec) in enumerate(every, 1):
        x, r = corpus.ctx[cid], corpus.results[cid]
        local = (str(x.d) + "/", str(x.d.parent) + "/", str(x.base.root) + "/")  # the case's, its file's, the slice's folder
        args, skip = [], False
        for j, a in enumerate(x.args):
            if skip or a == "--quiet" or (a == "--config" and x.args[j + 1] == CONFIG):
                skip = a == "--config"
                continue
            a = re.sub(r"^runs:/[0-9a-f]{32}/", "runs:/<logreg run>/", a)
            args.append(_relative(a, local) or "''")
        lines = [line for line in r.stderr.splitlines() if line.strip() and not incidental(line)]
        if spec.expect == "error":
            lines = [line for line in lines if line.startswith("leadscore: error: ")] or lines
        message = _relative(" / ".join(lines), local).replace("|", "\\|")[:100]
        handling = "error" if spec.expect == "error" else ("proceed + warn" if spec.needles else "proceed (no warning)")
        rows.append(f"| {i} | {spec.what} | `leadscore {' '.join(args)}` | {r.code} | {message or '(none)'} | {handling} |")
    path.write_text("\n".join(rows) + "\n" + SAFETY)
