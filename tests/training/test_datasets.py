import dataclasses

import numpy as np
import pytest

from fusion_core.data.phantom import make_cohort
from fusion_core.preprocess.network import ct_to_unit, mr_to_unit, unit_to_ct
from fusion_core.preprocess.slices import crop_slices, neighbour_indices, uncrop_slices
from fusion_core.training.slice_table import (
    SliceDataConfig,
    SliceDataset,
    build_slice_table,
    iter_phantom_cohort,
    keep_slices,
    lesion_groups,
    split_subjects,
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


def test_phantom_cohort_matches_make_cohort():
    config = SliceDataConfig(n_subjects=3, seed=5, paired=False, phantom_options={"size": 16})
    lazy = list(iter_phantom_cohort(config))
    eager = make_cohort(3, seed=5, paired=False, size=16)
    for a, b in zip(lazy, eager, strict=True):
        assert a.subject_id == b.subject_id and a.label == b.label
        for m in ("ct", "mr"):
            va, vb = getattr(a, m), getattr(b, m)
            assert (va is None and vb is None) or np.array_equal(va.array, vb.array)


def test_crop_is_central_and_uncrop_inverts_it():
    a = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    c = crop_slices(a, 0.5)
    assert c.shape == (2, 4, 4) and np.array_equal(c, a[:, 2:6, 2:6])
    back = uncrop_slices(c, (8, 8), 0.5)
    assert np.array_equal(back[:, 2:6, 2:6], c) and back[:, :2].sum() == 0
    assert crop_slices(a, 1.0) is a or np.array_equal(crop_slices(a, 1.0), a)
    with pytest.raises(ValueError, match="crop fraction"):
        crop_slices(a, 0.0)


def test_keep_slices_brain_condition():
    head = np.ones((6, 4, 4), bool)
    brain = np.zeros((6, 4, 4), bool)
    brain[1, :2] = brain[2] = brain[3, :3] = True  # areas 0, 8, 16, 12, 0, 0
    assert keep_slices(head, SliceDataConfig(slice_step=1)).tolist() == [0, 1, 2, 3, 4, 5]
    config = SliceDataConfig(slice_step=1, min_brain_fraction=0.5)
    assert keep_slices(head, config, brain).tolist() == [1, 2, 3]
    assert SliceDataConfig().cache_key() != config.cache_key()


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
    assert item["CT"].shape == item["lesion"].shape == (1, 32, 32) and item["has"].tolist() == [1.0, 1.0]
    positive = table["label"] == 1
    assert table["lesion"][positive].any(axis=(1, 2)).all() and not table["lesion"][table["subject_label"] == 0].any()
    with pytest.raises(ValueError, match="split must be one of"):
        SliceDataset(table, "holdout")


def test_complementary_cohort_takes_the_mr_lesion_type():

    config = SliceDataConfig(
        n_subjects=4, phantom_options={"size": 24}, complementary=True, mr_lesion="subacute-haemorrhage"
    )
    kinds = [(s.meta["lesion_type"], s.meta["conspicuity"]) for s in iter_phantom_cohort(config) if s.label]
    for kind, visibility in kinds:
        faint_in = "MR" if kind == "calcified" else "CT"
        assert kind in ("calcified", "subacute-haemorrhage") and visibility[faint_in] == config.faint
    assert SliceDataConfig(mr_lesion="oedema").cache_key() == SliceDataConfig().cache_key()
    cohort = list(iter_phantom_cohort(dataclasses.replace(config, n_subjects=5)))
    groups = lesion_groups(dataclasses.replace(config, n_subjects=5), np.arange(5))
    assert [s.meta["conspicuity"]["MR"] < 1 for s in cohort] == [g == "calcified" for g in groups]
    assert set(lesion_groups(SliceDataConfig(), np.arange(3))) == {"mixed"}


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


def test_table_crop_and_brain_slices(tmp_path):
    common = {"n_subjects": 2, "phantom_options": {"size": 32}, "image_size": 16, "slice_step": 1}
    full = build_slice_table(SliceDataConfig(**common, cache_dir=str(tmp_path)))
    fair = build_slice_table(
        SliceDataConfig(**common, min_brain_fraction=0.5, crop_fraction=0.5, cache_dir=str(tmp_path))
    )
    assert fair["CT"].shape[1:] == (16, 16) and 0 < len(fair["slice"]) < len(full["slice"])
    assert fair["head"].mean() > full["head"].mean()  # the crop zooms in on the head


def test_neighbours_stack_adjacent_slices_as_channels(tmp_path):
    base = dict(n_subjects=2, phantom_options={"size": 32}, image_size=32, slice_step=3, cache_dir=str(tmp_path))
    flat = build_slice_table(SliceDataConfig(**base))
    slab = build_slice_table(SliceDataConfig(**base, neighbours=1))
    assert slab["CT"].shape == (len(flat["CT"]), 3, 32, 32)
    np.testing.assert_array_equal(slab["CT"][:, 1], flat["CT"])  # the centre channel is the 2-D slice
    np.testing.assert_array_equal(slab["label"], flat["label"])
    assert not np.array_equal(slab["MR"][:, 0], slab["MR"][:, 2])
    assert SliceDataset(slab, "train")[0]["MR"].shape == (3, 32, 32)
    nb = neighbour_indices(np.array([0, 5, 9]), 2, 10)
    assert nb.tolist() == [[0, 0, 0, 1, 2], [3, 4, 5, 6, 7], [7, 8, 9, 9, 9]]
