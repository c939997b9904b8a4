import numpy as np
import pytest

from fusion_core.data.phantom import make_cohort
from fusion_core.datasets import (
    SliceDataConfig,
    SliceDataset,
    build_slice_table,
    ct_to_unit,
    iter_cohort,
    mr_to_unit,
    split_subjects,
    unit_to_ct,
)


def test_ct_scaling_round_trip_and_range():
    hu = np.array([-2000.0, -1024, -500, 0, 40, 300, 1500, 3000, 5000])
    unit = ct_to_unit(hu)
    assert unit.min() == -1.0 and unit.max() == 1.0
    assert np.all(np.diff(unit) >= 0)
    inner = (hu >= -1024) & (hu <= 3000)
    np.testing.assert_allclose(unit_to_ct(unit)[inner], hu[inner], atol=1e-3)
    assert ct_to_unit(np.array([40.0]))[0] - ct_to_unit(np.array([0.0]))[0] > 0.05  # soft-tissue contrast kept


def test_mr_scaling_ignores_gain():
    rng = np.random.default_rng(0)
    mr = np.zeros((4, 16, 16))
    mr[:, 4:12, 4:12] = rng.uniform(100, 500, (4, 8, 8))
    a, stats = mr_to_unit(mr)
    b, _ = mr_to_unit(3.0 * mr)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert a.min() >= -1 and a.max() <= 1 and stats["high"] > stats["low"]


def test_split_is_by_subject_and_seeded():
    s = split_subjects(20, (0.6, 0.2, 0.2), seed=3)
    assert np.bincount(s).tolist() == [12, 4, 4]
    assert np.array_equal(s, split_subjects(20, (0.6, 0.2, 0.2), seed=3))


def test_iter_cohort_matches_make_cohort():
    lazy = list(iter_cohort(3, seed=5, paired=False, size=16))
    eager = make_cohort(3, seed=5, paired=False, size=16)
    for a, b in zip(lazy, eager, strict=True):
        assert a.subject_id == b.subject_id and a.label == b.label
        for m in ("ct", "mr"):
            va, vb = getattr(a, m), getattr(b, m)
            assert (va is None and vb is None) or np.array_equal(va.array, vb.array)


def test_table_cached_and_split_by_subject(tmp_path):
    config = SliceDataConfig(
        n_subjects=4,
        phantom_options={"size": 32},
        image_size=32,
        slice_step=3,
        cache_dir=str(tmp_path),
        complementary=True,
        split_fractions=(0.5, 0.25, 0.25),
    )
    table = build_slice_table(config)
    assert table["CT"].shape[1:] == (32, 32) and table["has"].all()
    for subject in np.unique(table["subject"]):
        assert len(np.unique(table["split"][table["subject"] == subject])) == 1
    assert len(list(tmp_path.glob("slices_*.npz"))) == 1
    again = build_slice_table(config)
    assert np.array_equal(again["MR"], table["MR"])
    item = SliceDataset(table, "val")[0]
    assert item["CT"].shape == (1, 32, 32) and item["has"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="split must be one of"):
        SliceDataset(table, "holdout")


def test_drop_ambiguous_removes_lesion_tips(tmp_path):
    common = {
        "n_subjects": 2,
        "phantom_options": {"size": 32, "label": 1},
        "image_size": 32,
        "slice_step": 1,
        "cache_dir": str(tmp_path),
    }
    keep = build_slice_table(SliceDataConfig(**common, lesion_min_voxels=4))
    drop = build_slice_table(SliceDataConfig(**common, lesion_min_voxels=4, drop_ambiguous=True))
    tips = (keep["lesion_voxels"] > 0) & (keep["lesion_voxels"] < 4)
    assert len(drop["label"]) == len(keep["label"]) - tips.sum()
    assert np.all((drop["lesion_voxels"] == 0) | (drop["lesion_voxels"] >= 4))
    assert np.array_equal(drop["label"], (drop["lesion_voxels"] >= 4).astype(int))


def test_split_is_stratified_by_label():
    labels = np.array([1] * 10 + [0] * 30)
    s = split_subjects(40, (0.6, 0.2, 0.2), seed=0, labels=labels)
    assert [int(labels[s == k].sum()) for k in range(3)] == [6, 2, 2]
    assert np.bincount(s).tolist() == [24, 8, 8]
