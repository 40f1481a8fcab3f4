"""The routing scorer: each row goes to its segment's model, order kept, fallbacks and unmatched rows to the
global model, and everything but `score` answers as the global LeadScorer."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from models.calibration import Calibrator
from models.estimators import LogRegModel
from models.grades import GradeScale
from models.scorer import OUTPUT_COLUMNS, LeadScorer
from models.segments import SegmentedScorer, SegmentRoute, SegmentRule, assign, overlaps
from tests.models.conftest import CATEGORICAL, make_frame
from tests.models.test_scorer import INFO, SHARES


def _scorer(model, frames) -> LeadScorer:
    Xv, yv = frames["val"]
    m = model.margin(Xv)
    scorer = LeadScorer(model, Calibrator("sigmoid").fit(m, yv), GradeScale.fit(m, SHARES), None, INFO)  # type: ignore[arg-type]
    scorer.fit_matrix(Xv, yv, (0.25, 0.25, 0.25), (0.25, 0.25, 0.25))
    return scorer


@pytest.fixture(scope="module")
def software_scorer(frames) -> LeadScorer:
    """A different model (other C, only software rows) so its probabilities differ from the global one's."""
    X, y = make_frame(3000, 11)
    keep = (X["industry"] == "software").to_numpy()
    model = LogRegModel(CATEGORICAL, C=0.01).fit(X[keep].reset_index(drop=True), y[keep])
    return _scorer(model, frames)


@pytest.fixture(scope="module")
def global_scorer(lgb_model, frames) -> LeadScorer:
    return _scorer(lgb_model, frames)


def _table(frames) -> pd.DataFrame:
    X, _ = frames["test"]
    return X.assign(lead_id=[f"L{i}" for i in range(len(X))], as_of=pd.Timestamp("2025-06-01"))


SOFTWARE = SegmentRule.of("software", "industry", ["Software "])  # trimmed, case-insensitive
FINANCE = SegmentRule.of("finance", "industry", ["finance"])


def test_rules_match_trimmed_case_insensitive_values_and_missing_cells() -> None:
    frame = pd.DataFrame({"industry": [" SOFTWARE", "retail", None, "", "Finance"]})
    assert SOFTWARE.matches(frame).tolist() == [True, False, False, False, False]
    assert SegmentRule.of("unknown", "industry", ["Missing"]).matches(frame).tolist() == [False, False, True, True, False]
    rest = SegmentRule.of("rest", "industry", ["software", "finance"], exclude=True)
    assert rest.matches(frame).tolist() == [False, True, True, True, False]
    assert assign([SOFTWARE, FINANCE], frame).tolist() == [0, -1, -1, -1, 1]


def test_overlaps_name_both_rules_and_the_first_shared_row() -> None:
    frame = pd.DataFrame({"industry": ["retail", "software", "software"], "source": ["web", "list", "event"]})
    listed = SegmentRule.of("listed", "source", ["list", "event"])
    assert overlaps([SOFTWARE, listed], frame) == ("software", "listed", 1)
    assert overlaps([SOFTWARE, FINANCE], frame) is None


def test_rows_are_routed_to_their_segment_model_in_input_order(global_scorer, software_scorer, frames) -> None:
    table = _table(frames).sample(frac=1.0, random_state=3).reset_index(drop=True)  # shuffled: order must be kept
    routed = SegmentedScorer.around(global_scorer, [SegmentRoute(SOFTWARE, software_scorer)])
    out = routed.score(table)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert out["lead_id"].tolist() == table["lead_id"].tolist()
    software = (table["industry"] == "software").to_numpy()
    assert 0 < software.sum() < len(table)
    own = software_scorer.score(table[software].reset_index(drop=True))
    rest = global_scorer.score(table[~software].reset_index(drop=True))
    np.testing.assert_allclose(out.loc[software, "probability"], own["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.loc[~software, "probability"], rest["probability"], rtol=0, atol=1e-12)
    assert not np.allclose(own["probability"], global_scorer.score(table[software].reset_index(drop=True))["probability"])
    assert set(out.loc[software, "model_name"]) == {f"lead-scorer/{software_scorer.model.name}@software"}
    assert set(out.loc[~software, "model_name"]) == {f"lead-scorer/{global_scorer.model.name}"}
    assert out.loc[software, "top_reasons"].tolist() == own["top_reasons"].tolist()
    assert out["scored_at"].nunique() == 1
    np.testing.assert_allclose(routed.probability(table), out["probability"], rtol=0, atol=1e-12)
    assert routed.segment_of(table).tolist() == np.where(software, "software", "").tolist()


def test_a_fallback_segment_is_scored_by_the_global_model(global_scorer, frames) -> None:
    table = _table(frames)
    routed = SegmentedScorer.around(global_scorer, [SegmentRoute(SOFTWARE, None, "too few leads")])
    out, plain = routed.score(table), global_scorer.score(table)
    np.testing.assert_allclose(out["probability"], plain["probability"], rtol=0, atol=1e-12)
    assert out["model_name"].tolist() == plain["model_name"].tolist()
    assert routed.route(table).max() == -1
    assert routed.describe() == [{"segment": "software", "filter": "industry in [software]",
                                  "model": "global (too few leads)"}]


def test_an_empty_table_and_a_segment_with_no_rows_score_like_the_global_model(global_scorer, software_scorer,
                                                                                frames) -> None:
    table = _table(frames)
    routed = SegmentedScorer.around(global_scorer, [SegmentRoute(SegmentRule.of("none", "industry", ["mining"]),
                                                                 software_scorer)])
    empty = routed.score(table.iloc[:0])
    assert len(empty) == 0 and list(empty.columns) == OUTPUT_COLUMNS
    np.testing.assert_allclose(routed.score(table)["probability"], global_scorer.score(table)["probability"], atol=1e-12)
    only = table[table["industry"] == "software"].head(7).reset_index(drop=True)  # every row in the segment
    both = SegmentedScorer.around(global_scorer, [SegmentRoute(SOFTWARE, software_scorer)])
    np.testing.assert_allclose(both.score(only)["probability"], software_scorer.score(only)["probability"], atol=1e-12)


def test_everything_but_score_is_the_global_scorers_and_it_pickles(global_scorer, software_scorer, frames) -> None:
    routed = SegmentedScorer.around(global_scorer, [SegmentRoute(SOFTWARE, software_scorer)])
    assert isinstance(routed, LeadScorer)
    assert routed.model is global_scorer.model and routed.grades is global_scorer.grades
    assert routed.matrix is global_scorer.matrix and routed.feature_names == global_scorer.feature_names
    table = _table(frames)
    again = pickle.loads(pickle.dumps(routed))
    np.testing.assert_allclose(again.score(table, explain=False)["probability"],
                               routed.score(table, explain=False)["probability"], rtol=0, atol=1e-12)


def test_a_missing_segment_column_is_a_clear_error(global_scorer, software_scorer, frames) -> None:
    routed = SegmentedScorer.around(global_scorer, [SegmentRoute(SegmentRule.of("eu", "region", ["EMEA"]), software_scorer)])
    with pytest.raises(ValueError, match="lacks column 'region' of segment 'eu'"):
        routed.score(_table(frames))
