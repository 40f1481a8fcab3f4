"""The promotion rule `decide`, without MLflow: floors, the champion comparison, ties and failures."""
from __future__ import annotations

from pipeline.config import PromotionConfig
from pipeline.stages.promote import decide

POLICY = PromotionConfig(metric="test_roc_auc", min_improvement=0.01, min_test_roc_auc=0.65, max_test_ece=0.05)


def _m(auc: float, ece: float = 0.01) -> dict[str, float]:
    return {"test_roc_auc": auc, "test_ece": ece}


def test_first_model_is_promoted_when_it_passes_the_floors() -> None:
    assert decide(_m(0.8), None, POLICY) == (True, ["first model to pass the absolute criteria"])


def test_floors_refuse_whatever_the_champion() -> None:
    promoted, reasons = decide(_m(0.6, 0.08), {"roc_auc": 0.5}, POLICY, "3")
    assert not promoted
    assert any("test_roc_auc 0.6000 < required 0.65" in r for r in reasons)
    assert any("test_ece 0.0800 > allowed 0.05" in r for r in reasons)


def test_the_challenger_must_beat_the_champion_by_more_than_the_margin() -> None:
    assert decide(_m(0.805), {"roc_auc": 0.80}, POLICY, "3")[0] is False  # +0.005 < 0.01
    assert decide(_m(0.81), {"roc_auc": 0.80}, POLICY, "3")[0] is False   # a tie at the margin keeps it
    promoted, reasons = decide(_m(0.82), {"roc_auc": 0.80}, POLICY, "3")
    assert promoted and "beats champion v3's 0.8000" in reasons[0]


def test_a_champion_that_cannot_score_loses() -> None:
    promoted, reasons = decide(_m(0.7), {}, POLICY, "3", why_champion_failed="KeyError: 'x'")
    assert promoted and "could not score" in reasons[0]
