import numpy as np
import pytest

from fusion_core.teaching.normalisation import (
    Normalisation,
    balanced_accuracy,
    normalise_mr,
    site_pair,
    site_transfer,
)


@pytest.fixture
def head(rng):
    z, y, x = np.mgrid[:12, :16, :16] - np.array([5.5, 7.5, 7.5])[:, None, None, None]
    inside = np.sqrt(x**2 + y**2 + z**2) < 6
    return np.where(inside, rng.normal(500, 50, inside.shape), rng.normal(5, 2, inside.shape)).astype(np.float32)


def test_zscore_makes_a_rescaled_scan_identical(head):
    a, b = normalise_mr(head, "z-score"), normalise_mr(0.7 * head, "z-score")
    assert np.allclose(a, b, atol=1e-4)


def test_histogram_matching_needs_a_reference(head):
    with pytest.raises(ValueError, match="reference"):
        normalise_mr(head, "histogram matching")


def test_balanced_accuracy():
    assert balanced_accuracy([1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1]) == pytest.approx((0.5 + 0.75) / 2)


def test_the_same_head_differs_between_sites_until_normalised():
    raw, z = site_pair("none", size=48), site_pair("z-score", size=48)
    matched = site_pair("histogram matching", size=48)
    assert abs(np.median(raw.values["A"]) / np.median(raw.values["B"]) - 1) > 0.1
    assert abs(np.median(z.values["A"]) - np.median(z.values["B"])) < 0.1
    assert np.median(matched.values["B"]) == pytest.approx(np.median(matched.values["A"]), rel=0.03)


def test_classifier_travels_only_after_normalisation():
    raw = site_transfer(Normalisation.NONE, n_subjects=6)
    z = site_transfer(Normalisation.ZSCORE, n_subjects=6)
    assert raw.train_balanced_accuracy > 0.8
    assert raw.test_balanced_accuracy < raw.train_balanced_accuracy - 0.1  # the threshold does not travel
    assert z.test_balanced_accuracy > raw.test_balanced_accuracy + 0.05


def test_mr_to_ct_scale_gives_hu_like_numbers_and_classifies_like_the_z_score():
    from fusion_core.preprocess.masks import ct_head_mask, mr_head_mask
    from fusion_core.teaching.normalisation import lesion_subjects, reference_ct

    mr = lesion_subjects("B", 1, seed=3)[0].mr.array
    mapped = normalise_mr(mr, Normalisation.CT_SCALE)
    ct = reference_ct()
    head = mapped[mr_head_mask(mr)]
    assert head.mean() == pytest.approx(ct[ct_head_mask(ct)].mean(), rel=1e-3)
    assert head.std() == pytest.approx(ct[ct_head_mask(ct)].std(), rel=1e-3)
    z = site_transfer(Normalisation.ZSCORE, n_subjects=4)
    hu = site_transfer(Normalisation.CT_SCALE, n_subjects=4)
    assert hu.test_auc == pytest.approx(z.test_auc, abs=0.005)  # an affine map of the z-score (up to regularisation)
