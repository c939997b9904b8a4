from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.case import Case
from fusion_core.data.phantom import PhantomSubject, iter_cohort, make_cohort, make_subject
from fusion_core.data.sites import get_site
from fusion_core.data.tissues import Tissue
from tests.data.conftest import CLEAN_SITE


def _median(image: np.ndarray, labels: np.ndarray, tissue: Tissue) -> float:
    values = image[labels == tissue]
    assert values.size > 0, f"no {tissue.name} voxels"
    return float(np.median(values))


def _centroid_mm(mask_volume) -> np.ndarray:
    idx = np.argwhere(mask_volume.array > 0.5)[:, ::-1]  # (x, y, z) indices
    assert len(idx) > 0
    return mask_volume.index_to_physical(idx.mean(axis=0))


# ------------------------------------------------------------------------------------------- API
def test_subject_has_the_documented_fields(small_subject: PhantomSubject):
    s = small_subject
    assert s.subject_id == "phantom-007"
    assert (s.ct.modality, s.mr.modality, s.mr_t2.modality) == ("CT", "MR-T1", "MR-T2")
    assert s.mr.same_grid(s.mr_t2) and not s.mr.same_grid(s.ct)
    assert s.ct.array.dtype == np.float32 and s.mr.array.dtype == np.float32
    assert set(s.masks) == {"head", "brain", "bone", "lesion"}
    assert all(m.same_grid(s.ct) for m in s.masks.values()) and s.tissue.same_grid(s.ct)
    assert isinstance(s.true_transform, sitk.Euler3DTransform)
    for key in ("site", "lesion_type", "conspicuity", "rotation_deg", "translation_mm", "seed"):
        assert key in s.meta
    assert s.label == 1 and s.meta["lesion_type"] == "oedema"


def test_default_grid_and_head_size_are_realistic(clean_subject: PhantomSubject):
    ct = clean_subject.ct
    assert ct.shape == (88, 128, 128)
    np.testing.assert_allclose(ct.spacing, (218 / 128, 218 / 128, 2.0))
    head = np.argwhere(clean_subject.masks["head"].array > 0.5)
    extent_y = (head[:, 1].max() - head[:, 1].min() + 1) * ct.spacing[1]
    extent_x = (head[:, 2].max() - head[:, 2].min() + 1) * ct.spacing[0]
    assert 150 <= extent_y <= 200, extent_y  # AP
    assert 130 <= extent_x <= 165, extent_x  # LR
    # The head fits inside the field of view (no cropped vertex).
    assert clean_subject.masks["head"].array[-1].sum() == 0


def test_same_seed_gives_identical_arrays_and_other_seeds_differ():
    a, b, c = (make_subject(s, size=32) for s in (11, 11, 12))
    for name in ("ct", "mr", "mr_t2", "tissue"):
        np.testing.assert_array_equal(getattr(a, name).array, getattr(b, name).array)
    assert a.meta == b.meta
    assert not np.array_equal(a.ct.array, c.ct.array)
    assert a.meta["rotation_deg"] != c.meta["rotation_deg"]


def test_cohort_is_deterministic_with_independent_subjects():
    first = make_cohort(3, seed=4, size=24)
    again = make_cohort(3, seed=4, size=24)
    other = make_cohort(3, seed=5, size=24)
    assert [s.subject_id for s in first] == ["phantom-000", "phantom-001", "phantom-002"]
    assert [s.meta["site"] for s in first] == ["A", "B", "C"]
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x.mr.array, y.mr.array)
    assert not np.array_equal(first[0].ct.array, first[1].ct.array)
    assert not np.array_equal(first[0].ct.array, other[0].ct.array)
    lazy = list(iter_cohort(3, seed=4, size=24))
    np.testing.assert_array_equal(lazy[2].ct.array, first[2].ct.array)
    with pytest.raises(ValueError, match="n must be"):
        make_cohort(-1)


# ----------------------------------------------------------------------------------- CT values
@pytest.mark.parametrize(
    ("tissue", "low", "high"),
    [
        (Tissue.AIR, -1001, -990),
        (Tissue.FAT, -120, -70),
        (Tissue.VENTRICLE, 0, 15),
        (Tissue.CSF, 0, 25),  # thin subarachnoid layer: partial volume with grey matter and bone
        (Tissue.WHITE_MATTER, 25, 31),
        (Tissue.GREY_MATTER, 33, 45),
        (Tissue.SCALP, 35, 60),
        (Tissue.DIPLOE, 300, 900),
    ],
)
def test_ct_hounsfield_units_per_tissue(clean_subject: PhantomSubject, tissue: Tissue, low: float, high: float):
    assert low <= _median(clean_subject.ct.array, clean_subject.tissue.array, tissue) <= high


def test_cortical_bone_is_dense(clean_subject: PhantomSubject):
    bone = clean_subject.ct.array[clean_subject.tissue.array == Tissue.CORTICAL_BONE]
    assert np.percentile(bone, 90) >= 1000
    assert clean_subject.ct.array.max() <= 1900


@pytest.mark.parametrize("site", ["A", "B", "C"])
def test_sites_add_ct_noise_of_a_few_hu_in_the_brain(site: str):
    noisy = make_subject(5, size=48, site=site, label=0, modalities=("CT",))
    quiet = make_subject(
        5, size=48, site=dataclasses.replace(get_site(site), ct_noise_hu=0.0), label=0, modalities=("CT",)
    )
    brain = noisy.masks["brain"].array > 0
    noise = float((noisy.ct.array - quiet.ct.array)[brain].std())
    assert 4 < noise < 10


# ---------------------------------------------------------------------------------- MR contrast
@pytest.fixture(scope="module")
def clean_mr_only() -> PhantomSubject:
    return make_subject(5, size=96, site=CLEAN_SITE, label=0, modalities=("MR",))


def test_t1_tissue_order(clean_mr_only: PhantomSubject):
    t1, labels = clean_mr_only.mr.array, clean_mr_only.tissue.array
    wm, gm, csf = (_median(t1, labels, t) for t in (Tissue.WHITE_MATTER, Tissue.GREY_MATTER, Tissue.CSF))
    assert wm > gm > csf
    # Bone and air are both dark on T1 (why MR->CT synthesis is hard).
    assert _median(t1, labels, Tissue.CORTICAL_BONE) < 0.3 * wm
    assert _median(t1, labels, Tissue.AIR) < 0.05 * wm
    assert _median(t1, labels, Tissue.FAT) > wm  # fat bright on T1


def test_t2_csf_is_brightest(clean_mr_only: PhantomSubject):
    t2, labels = clean_mr_only.mr_t2.array, clean_mr_only.tissue.array
    csf = _median(t2, labels, Tissue.CSF)
    others = [_median(t2, labels, t) for t in (Tissue.GREY_MATTER, Tissue.WHITE_MATTER, Tissue.FAT, Tissue.SCALP)]
    assert csf > max(others)
    assert _median(t2, labels, Tissue.GREY_MATTER) > _median(t2, labels, Tissue.WHITE_MATTER)


def test_mr_intensities_are_in_a_0_to_about_1000_range(small_subject: PhantomSubject):
    for volume in (small_subject.mr, small_subject.mr_t2):
        assert volume.array.min() >= 0
        assert 300 < np.percentile(volume.array, 99.5) < 1500


# ------------------------------------------------------------------------------------ alignment
def test_true_transform_maps_ct_structures_onto_the_same_mr_structures():
    kwargs = {"size": 64, "label": 1, "lesion_type": "oedema", "max_rotation_deg": 10, "max_translation_mm": 15}
    paired = make_subject(21, **kwargs)
    mr_only = make_subject(21, modalities=("MR",), **kwargs)  # same seed: same anatomy and transform
    voxel = max(mr_only.mr.spacing)
    for mask in ("lesion", "brain"):
        mapped = np.asarray(paired.true_transform.TransformPoint(tuple(_centroid_mm(paired.masks[mask]))))
        assert np.linalg.norm(mapped - _centroid_mm(mr_only.masks[mask])) < voxel, mask
    # The misalignment is real: the untransformed CT centroid is far from the MR one.
    ct_centroid = _centroid_mm(paired.masks["brain"])
    assert np.linalg.norm(ct_centroid - _centroid_mm(mr_only.masks["brain"])) > 5


def test_mr_on_ct_grid_aligns_with_the_ct_anatomy(small_subject: PhantomSubject):
    s = small_subject
    csf = np.isin(s.tissue.array, (Tissue.CSF, Tissue.VENTRICLE)).astype(float).ravel()
    aligned = s.mr_on_ct_grid("T2")
    assert aligned.same_grid(s.ct) and aligned.modality == "MR-T2"
    unaligned = sitk.Resample(s.mr_t2.to_sitk(), s.ct.to_sitk(), sitk.Transform(), sitk.sitkLinear, 0.0)
    r_aligned = np.corrcoef(aligned.array.ravel(), csf)[0, 1]
    r_unaligned = np.corrcoef(sitk.GetArrayFromImage(unaligned).ravel(), csf)[0, 1]
    assert r_aligned > r_unaligned + 0.1
    bone = s.masks["bone"].array.ravel()
    t1 = s.mr_on_ct_grid().array.ravel()
    assert t1[bone > 0].mean() < 0.7 * t1[s.masks["brain"].array.ravel() > 0].mean()  # 4.5 mm voxels: partial volume


def test_mr_on_ct_grid_rejects_unknown_weighting(small_subject: PhantomSubject):
    with pytest.raises(ValueError, match="unknown MR weighting"):
        small_subject.mr_on_ct_grid("PD")


# -------------------------------------------------------------------------------------- lesions
def _lesion_contrast(subject: PhantomSubject, image: np.ndarray, labels: np.ndarray) -> float:
    return abs(float(image[labels == Tissue.LESION].mean()) - float(np.median(image[labels == Tissue.WHITE_MATTER])))


def test_conspicuity_scales_lesion_contrast_per_modality():
    common = {"size": 64, "site": CLEAN_SITE, "label": 1, "lesion_type": "calcified"}
    full = make_subject(3, conspicuity={"CT": 1.0, "MR": 1.0}, **common)
    faint_ct = make_subject(3, conspicuity={"CT": 0.2, "MR": 1.0}, **common)
    labels = full.tissue.array
    np.testing.assert_array_equal(labels, faint_ct.tissue.array)  # same lesion, only contrast changes
    ct_full, ct_faint = (_lesion_contrast(s, s.ct.array, labels) for s in (full, faint_ct))
    assert ct_faint < 0.35 * ct_full
    np.testing.assert_array_equal(full.mr.array, faint_ct.mr.array)


@pytest.mark.parametrize("kind", ["calcified", "oedema", "haemorrhage", "subacute-haemorrhage"])
def test_lesion_types_have_their_ct_signature(kind: str):
    s = make_subject(9, size=64, site=CLEAN_SITE, label=1, lesion_type=kind)
    labels = s.tissue.array
    lesion_hu = float(np.median(s.ct.array[labels == Tissue.LESION]))
    assert s.masks["lesion"].array.sum() > 0 and s.meta["lesion_type"] == kind
    assert np.all(np.isin(labels[labels == Tissue.LESION], (Tissue.LESION,)))
    expected = {
        "calcified": (150, 1000),
        "oedema": (8, 24),
        "haemorrhage": (50, 90),
        "subacute-haemorrhage": (28, 42),
    }[kind]
    assert expected[0] <= lesion_hu <= expected[1]


def test_oedema_is_bright_on_t2():
    s = make_subject(7, size=64, site=CLEAN_SITE, label=1, lesion_type="oedema", modalities=("MR",))
    labels = s.tissue.array
    lesion_t2 = np.median(s.mr_t2.array[labels == Tissue.LESION])
    assert lesion_t2 > 1.5 * np.median(s.mr_t2.array[labels == Tissue.WHITE_MATTER])


def test_subacute_haemorrhage_is_t1_bright_and_ct_isodense():
    s = make_subject(7, size=64, site=CLEAN_SITE, label=1, lesion_type="subacute-haemorrhage")
    labels = s.tissue.array
    lesion, wm = labels == Tissue.LESION, labels == Tissue.WHITE_MATTER
    mr = s.mr_on_ct_grid().array
    assert np.median(mr[lesion]) > 1.3 * np.median(mr[wm])
    assert abs(np.median(s.ct.array[lesion]) - np.median(s.ct.array[wm])) < 15  # isodense within 15 HU


def test_lesion_lies_inside_the_brain(small_subject: PhantomSubject):
    lesion = small_subject.masks["lesion"].array > 0
    assert lesion.sum() > 0
    assert np.all(small_subject.masks["brain"].array[lesion] > 0)


def test_lesion_radius_option_sets_the_range():
    for seed in range(3):
        s = make_subject(seed, size=32, label=1, lesion_type="calcified", lesion_radius_mm=(9.0, 10.0))
        assert 9.0 <= s.meta["lesion_radius_mm"] <= 10.0


def test_label_zero_has_no_lesion_voxels():
    s = make_subject(2, size=48, label=0)
    assert s.label == 0 and s.masks["lesion"].array.sum() == 0
    assert s.meta["lesion_type"] == "none" and s.meta["lesion_center_mm"] is None
    assert not np.any(s.tissue.array == Tissue.LESION)


def test_prevalence_and_random_lesion_types_follow_the_options():
    cohort = make_cohort(12, seed=2, size=16, prevalence=0.5, lesion_mix=("haemorrhage",))
    labels = [s.label for s in cohort]
    assert 0 < sum(labels) < 12
    assert {s.meta["lesion_type"] for s in cohort if s.label} == {"haemorrhage"}
    assert all(s.label == 0 for s in make_cohort(4, seed=2, size=16, prevalence=0.0))


# ------------------------------------------------------------------------------------- unpaired
def test_unpaired_cohort_has_disjoint_modalities():
    cohort = make_cohort(4, seed=1, size=24, paired=False)
    assert [s.meta["modalities"] for s in cohort] == [("CT",), ("MR",), ("CT",), ("MR",)]
    assert len({s.subject_id for s in cohort}) == 4
    for s in cohort:
        assert (s.ct is None) != (s.mr is None) and s.true_transform is None
        scan = s.ct if s.ct is not None else s.mr
        assert s.masks["head"].same_grid(scan) and s.tissue.same_grid(scan)
    with pytest.raises(ValueError, match="unpaired"):
        cohort[0].mr_on_ct_grid()


# ------------------------------------------------------------------------------------ to_case
def test_to_case_carries_everything(small_subject: PhantomSubject):
    case = small_subject.to_case()
    assert isinstance(case, Case) and case.is_paired
    assert case.mr is small_subject.mr and case.mr_weightings["MR-T2"] is small_subject.mr_t2
    assert case.mr_weightings["MR-T1"] is small_subject.mr and "mr_t2" not in case.meta
    assert case.inputs == ("CT", "MR-T1", "MR-T2")
    assert case.label == 1 and case.true_transform is small_subject.true_transform
    assert set(case.masks) == {"head", "brain", "bone", "lesion"}


# -------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"site": "Z"}, "unknown site"),
        ({"lesion_type": "tumour", "label": 1}, "unknown lesion type"),
        ({"conspicuity": {"CT": 1.5}}, "conspicuity values"),
        ({"conspicuity": {"PET": 1.0}}, "conspicuity keys"),
        ({"modalities": ("CT", "PET")}, "modalities"),
        ({"label": 2}, "label must be"),
        ({"size": 8}, "size must be"),
        ({"lesion_radius_mm": (5.0, 2.0)}, "lesion_radius_mm"),
    ],
)
def test_bad_options_raise_errors_that_name_them(options: dict, message: str):
    with pytest.raises(ValueError, match=message):
        make_subject(0, **options)


def test_cohort_subject_equals_the_cohort_member():
    from fusion_core.data.phantom import cohort_subject, make_cohort

    cohort = make_cohort(3, seed=5, size=32, paired=False)
    alone = cohort_subject(2, seed=5, size=32, paired=False)
    assert alone.subject_id == cohort[2].subject_id
    np.testing.assert_array_equal(alone.ct.array, cohort[2].ct.array)
    assert alone.meta["site"] == cohort[2].meta["site"] and alone.mr is None
