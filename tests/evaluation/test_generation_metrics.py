import numpy as np
import pytest

from fusion_core.evaluation.generation import TISSUES, generation_metrics, tissue_masks


@pytest.fixture
def head_ct():
    rng = np.random.default_rng(0)
    ct = np.full((4, 16, 16), 30.0)
    ct[:, :2] = 1200.0  # a bone band
    ct += rng.normal(0, 5, ct.shape)
    head = np.ones(ct.shape, bool)
    head[:, :, :2] = False
    brain = np.zeros(ct.shape, bool)
    brain[:, 8:] = True
    return ct, head, brain


def test_tissue_masks_partition_the_head(head_ct):
    ct, head, brain = head_ct
    masks = tissue_masks(ct, head, brain)
    assert set(masks) == set(TISSUES)
    total = sum(m.astype(int) for m in masks.values())
    assert np.array_equal(total > 0, head) and total.max() == 1


def test_ct_metrics_by_hand(head_ct):
    ct, head, brain = head_ct
    pred = ct.copy()
    pred[:, 8:] += 20.0  # brain off by 20 HU, nothing else
    m = generation_metrics(pred, ct, head, brain=brain)
    assert m.tissue_mae["brain"] == pytest.approx(20.0)
    assert m.tissue_mae["bone"] == pytest.approx(0.0)
    assert m.tissue_mae["soft tissue"] == pytest.approx(0.0)
    assert m.mae == pytest.approx(20.0 * (brain & head).sum() / head.sum())
    assert m.bone_dice == pytest.approx(1.0)
    assert set(m.as_row()) >= {"mae", "psnr_db", "ssim", "bone_dice", "mae_bone", "mae_soft_tissue", "mae_brain"}


def test_identical_mr_is_perfect_and_scaled(head_ct):
    ct, head, _ = head_ct
    mr = np.abs(ct) / 3 + 100
    perfect = generation_metrics(mr, mr, head, target="MR", real_ct=ct)
    assert perfect.mae == 0 and perfect.ssim == pytest.approx(1.0) and np.isnan(perfect.bone_dice)
    off = generation_metrics(mr * 1.1, mr, head, target="MR-T1")
    assert off.target == "MR" and 0 < off.mae < 0.2 and all(np.isnan(v) for v in off.tissue_mae.values())


def test_bad_arguments(head_ct):
    ct, head, _ = head_ct
    with pytest.raises(ValueError, match="must match"):
        generation_metrics(ct[:2], ct, head)
    with pytest.raises(ValueError, match="empty"):
        generation_metrics(ct, ct, np.zeros_like(head))
    with pytest.raises(ValueError, match="target"):
        generation_metrics(ct, ct, head, target="PET")
