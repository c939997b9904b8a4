"""The clinicians' table on a hand-made example, and its bootstrap against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from fusion_core.evaluation import classification_table, youden_threshold
from fusion_core.evaluation.bootstrap import stratified_indices

# Negatives 0.1 0.2 0.3 0.5 0.6, positives 0.4 0.7 0.8 0.9.
LABELS = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
SCORES = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.4, 0.7, 0.8, 0.9])


def test_youden_threshold_by_hand():
    # J at 0.7: 3/4 - 0 = 0.75; at 0.6: 3/4 - 1/5 = 0.55; at 0.4: 4/4 - 2/5 = 0.6
    assert youden_threshold(LABELS, SCORES) == 0.7


def test_table_at_youden_by_hand():
    table = classification_table(LABELS, SCORES, n_boot=200)
    values = {k: m.value for k, m in table.metrics.items()}
    # at 0.7: TP 3, FP 0, FN 1, TN 5; AUC: 18 of 20 pairs ordered
    assert table.threshold == 0.7 and table.youden
    assert values == pytest.approx(
        {"auc": 0.9, "accuracy": 8 / 9, "f1": 6 / 7, "precision": 1.0, "recall": 0.75, "specificity": 1.0}
    )
    assert (table.n_pos, table.n_neg) == (4, 5)


def test_table_at_given_threshold_by_hand():
    table = classification_table(LABELS, SCORES, threshold=0.5, n_boot=10)
    values = {k: m.value for k, m in table.metrics.items()}
    # at 0.5: TP 3, FP 2 (0.5, 0.6), FN 1 (0.4), TN 3
    assert values == pytest.approx(
        {"auc": 0.9, "accuracy": 6 / 9, "f1": 2 / 3, "precision": 0.6, "recall": 0.75, "specificity": 0.6}
    )
    assert not table.youden


def test_bootstrap_mean_and_sd_match_a_sklearn_loop(rng):
    y = rng.integers(0, 2, 60)
    s = y + rng.normal(0, 1, 60)
    table = classification_table(y, s, threshold=0.5, n_boot=100, seed=4)
    rows = stratified_indices(y, 100, seed=4)
    fns = {"accuracy": accuracy_score, "f1": f1_score, "precision": precision_score, "recall": recall_score}
    for name, fn in fns.items():
        draws = [fn(y[i], s[i] >= 0.5) for i in rows]
        assert table.metrics[name].mean == pytest.approx(np.mean(draws))
        assert table.metrics[name].sd == pytest.approx(np.std(draws, ddof=1))
        assert table.metrics[name].low <= table.metrics[name].high


def test_precision_without_positive_calls_is_nan():
    table = classification_table(LABELS, SCORES, threshold=2.0, n_boot=20)
    assert np.isnan(table.metrics["precision"].value) and np.isnan(table.metrics["precision"].mean)
    assert table.metrics["recall"].value == 0.0 and table.metrics["f1"].value == 0.0
    assert table.metrics["specificity"].value == 1.0


def test_table_as_frame_and_dict():
    table = classification_table(LABELS, SCORES, n_boot=20)
    frame = table.as_frame()
    assert list(frame.index) == ["AUC", "Accuracy", "F1", "Precision", "Recall (sensitivity)", "Specificity"]
    assert list(frame.columns) == ["value", "mean", "sd", "low", "high"]
    assert frame.loc["AUC", "value"] == pytest.approx(0.9)
    assert table.as_dict()["metrics"]["recall"]["value"] == 0.75
