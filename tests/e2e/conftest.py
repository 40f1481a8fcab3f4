"""Fixtures of the bad-input corpus (tests/e2e/test_bad_inputs_<part>.py): the clean 300-lead slice they all
start from, one run of a file's cases, and the summary table of every file's run."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.e2e.bad_inputs")

from tests.e2e.bad_inputs import Base, Corpus, logreg_uri, make_base, run_corpus, write_table  # noqa: E402


@pytest.fixture(scope="session")
def bad_base(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Base:
    return make_base(world, tmp_path_factory.mktemp("bad_inputs"))


@pytest.fixture(scope="session")
def bad_corpora() -> Iterator[list[Corpus]]:
    """Every file's corpus in the order they ran; with LEADSCORE_BAD_INPUTS_TABLE set, written as one table."""
    corpora: list[Corpus] = []
    yield corpora
    if os.environ.get("LEADSCORE_BAD_INPUTS_TABLE") and corpora:
        write_table(corpora, Path(os.environ["LEADSCORE_BAD_INPUTS_TABLE"]))


@pytest.fixture(scope="module")
def bad_corpus(request: pytest.FixtureRequest, bad_base: Base, bad_corpora: list[Corpus],
               tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The module's CASES run once. Only a file with predict cases asks for the session champion (`trained`:
    the slow part of the corpus), so the others run in seconds on their own."""
    cases = request.module.CASES
    trained = request.getfixturevalue("trained") if any(c.command == "predict" for c in cases.values()) else None
    if trained is not None and not bad_base.logreg_uri:
        bad_base.logreg_uri = logreg_uri(trained)
    name = request.module.__name__.rsplit(".", 1)[-1]
    corpus = run_corpus(cases, bad_base, tmp_path_factory.mktemp(name), trained)
    corpus.part = name.removeprefix("test_bad_inputs_")
    bad_corpora.append(corpus)
    return corpus
