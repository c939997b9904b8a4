"""The classical baseline: features, kernel weights, both models on synthetic features, scores tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fusion_core.evaluation import auc_score, read_scores, write_scores
from fusion_core.evaluation.classical import (
    FEATURE_NAMES,
    MODALITIES,
    alignment_weights,
    classical_scores,
    fit_classical,
    rbf,
    region_features,
)


def test_region_features_by_hand():
    array = np.zeros((4, 10, 10))
    array[1:3, 2:8, 2:8] = np.arange(72).reshape(2, 6, 6)
    mask = np.zeros_like(array, bool)
    mask[1:3, 2:8, 2:8] = True
    f = dict(zip(FEATURE_NAMES, region_features(array, mask), strict=True))
    assert len(FEATURE_NAMES) == 16
    assert f["p50"] == pytest.approx(35.5) and f["mean"] == pytest.approx(35.5)
    assert f["sd"] == pytest.approx(np.arange(72).std())
    assert f["high_outliers"] == 0.0  # a uniform ramp has no 3-sd outlier
    array[2, 4, 4] = 1000.0  # one bright voxel: a tiny lesion
    g = dict(zip(FEATURE_NAMES, region_features(array, mask), strict=True))
    assert g["high_outliers"] == pytest.approx(1 / 72) and g["worst_slice_high_outliers"] == pytest.approx(1 / 36)


def test_rbf_kernel_by_hand():
    a, b = np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 0.0]])
    np.testing.assert_allclose(rbf(a, b, 0.5), [[1.0], [np.exp(-0.5)]])


def _features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CT features carry the label, MR-T1 weakly, MR-T2 not at all."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, len(MODALITIES), len(FEATURE_NAMES)))
    x[:, 0, :4] += 1.5 * labels[:, None]
    x[:, 1, :2] += 0.5 * labels[:, None]
    return x, labels


def test_alignment_weights_favour_the_informative_kernel():
    x, labels = _features(120, 0)
    kernels = {m: rbf(x[:, i], x[:, i], 1 / 16) for i, m in enumerate(MODALITIES)}
    w = alignment_weights(kernels, labels)
    assert sum(w.values()) == pytest.approx(1.0) and min(w.values()) >= 0
    assert w["CT"] > w["MR-T1"] > w["MR-T2"]


def test_both_models_learn_and_use_only_the_present_modalities():
    x, labels = _features(160, 1)
    model = fit_classical(x, labels)
    test_x, test_labels = _features(100, 2)
    for predict in (model.predict_logistic, model.predict_svm):
        complete = auc_score(test_labels, predict(test_x))
        mr_only = auc_score(test_labels, predict(test_x, ("MR-T1", "MR-T2")))
        assert complete > 0.85 and mr_only < complete - 0.1
    # the SVM without CT ignores the CT features entirely
    scrambled = test_x.copy()
    scrambled[:, 0] = np.random.default_rng(3).normal(size=scrambled[:, 0].shape)
    np.testing.assert_allclose(
        model.predict_svm(scrambled, ("MR-T1", "MR-T2")), model.predict_svm(test_x, ("MR-T1", "MR-T2"))
    )


def test_classical_scores_are_valid_scores_files(tmp_path):
    x, labels = _features(60, 4)
    rows = pd.DataFrame(
        {
            "subject_id": [f"phantom-{i:03d}" for i in range(60)],
            "label": labels,
            "lesion_type": np.where(labels == 1, "calcified", "none"),
            "site": "A",
            "spec": "demo",
            "split": "test",
        }
    )
    tables = classical_scores(fit_classical(x, labels), rows, x)
    assert set(tables) == {"classical-lr", "classical-mksvm"}
    table = read_scores(write_scores(tables["classical-mksvm"], tmp_path / "classical-mksvm"))
    assert table.subsets == ("CT+MR-T1+MR-T2", "CT", "MR-T1+MR-T2") and table.full_subset == "CT+MR-T1+MR-T2"
