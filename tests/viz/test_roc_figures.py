"""ROC curves, AUC bars and reliability diagrams: traces, colours, axis titles."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.evaluation.comparison import evaluate_strategies, missing_modality_aucs, unimodal_bound
from fusion_core.evaluation.recalibration import calibrate_strategies
from fusion_core.evaluation.roc import roc_band
from fusion_core.evaluation.strategies import load_strategy_scores
from fusion_core.viz.auc_bars import missing_modality_figure
from fusion_core.viz.reliability import reliability_figure, reliability_pair_figure
from fusion_core.viz.roc import FPR_AXIS, TPR_AXIS, roc_figure
from fusion_core.viz.theme import colour_of, strategy_colour
from tests.evaluation.strategy_fixtures import write_strategy_models


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    return load_strategy_scores(write_strategy_models(tmp_path_factory.mktemp("models"), n=80))


def test_roc_figure_one_curve_band_and_point_per_strategy_plus_bound_and_chance(scores):
    evaluated = evaluate_strategies(scores, n_boot=50)
    bands = {e.strategy: roc_band(*scores.scores(e.strategy), n_boot=20) for e in evaluated}
    fig = roc_figure(evaluated, bands=bands, bound=unimodal_bound(scores))
    names = [t.name for t in fig.data]
    assert len(fig.data) == 3 * len(evaluated) + 2
    assert any(n.startswith("Early fusion — AUC") for n in names)
    bound = next(t for t in fig.data if t.name.startswith("Independence bound"))
    assert bound.line.dash == "dash"
    early = next(t for t in fig.data if t.name.startswith("Early fusion — AUC"))
    assert early.line.color == strategy_colour("early") == colour_of("clf-early")
    assert fig.layout.xaxis.title.text == FPR_AXIS and fig.layout.yaxis.title.text == TPR_AXIS
    assert len(roc_figure(evaluated[:1]).data) == 3  # no band, no bound: the curve, its point, chance


def test_missing_modality_figure_groups_bars_by_inputs_with_ci(scores):
    frame = missing_modality_aucs(scores, n_boot=50)
    fig = missing_modality_figure(frame)
    assert [t.name for t in fig.data] == ["CT and MR", "CT only (MR missing)", "MR only (CT missing)"]
    assert list(fig.data[0].x) == ["CT alone", "MR (T1+T2) alone", "Early fusion", "Product of experts"]
    both = fig.data[0]
    assert np.isnan(both.y[0]) and both.y[2] == pytest.approx(frame[2].auc.auc)  # CT alone has no "both" bar
    assert fig.layout.yaxis.title.text.startswith("Subject-level AUC")


def test_reliability_figure_before_and_after(scores):
    results = calibrate_strategies(scores)
    before, after = reliability_figure(results), reliability_figure(results, after=True)
    assert len(before.data) == len(results) + 1  # plus the diagonal
    assert before.data[1].name.startswith("CT alone — ECE")
    assert before.data[3].name != after.data[3].name  # the ECE changes with the temperature
    assert "probability" in before.layout.xaxis.title.text
    pair = reliability_pair_figure(results[2])
    assert [t.name.split(" — ")[0] for t in pair.data][1:] == [
        "Raw",
        f"Temperature-scaled (T = {' / '.join(f'{t:.2f}' for t in results[2].temperatures)})",
    ]
    assert pair.data[1].line.dash == "dash" and pair.data[1].line.color == pair.data[2].line.color == colour_of(
        "clf-early"
    )
