"""Case: modalities, MR weightings, a fingerprint that follows the data, and alignment onto the CT grid."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from fusion_core.case import Case
from fusion_core.data.phantom import make_subject
from fusion_core.data.tissues import Tissue
from fusion_core.errors import CaseError


def test_modalities_and_pairing(small_ct):
    assert Case("a", ct=small_ct).modalities == ("CT",)
    assert not Case("a", ct=small_ct).is_paired
    assert Case("a", ct=small_ct, mr=small_ct).is_paired


def test_fingerprint_changes_with_voxels_and_geometry_not_only_id(small_ct):
    same = Case("upload", ct=small_ct).fingerprint
    assert same == Case("upload", ct=small_ct).fingerprint
    assert same != Case("upload", ct=small_ct.with_array(small_ct.array + 1)).fingerprint
    shifted = type(small_ct)(small_ct.array, spacing=small_ct.spacing, origin=(0, 0, 1), modality="CT")
    assert same != Case("upload", ct=shifted).fingerprint
    assert same.startswith("upload:") and same != Case("other", ct=small_ct).fingerprint


# ------------------------------------------------------------------------ MR weightings
def test_a_plain_mr_is_the_primary_and_keyed_as_t1(small_ct):
    mr = small_ct.with_array(small_ct.array + 1000, modality="MR")
    case = Case("a", ct=small_ct, mr=mr)
    assert case.mr_weightings == {"MR-T1": mr} and case.inputs == ("CT", "MR-T1")
    assert case.modalities == ("CT", "MR")


def test_weightings_alone_choose_the_t1_as_primary(small_ct):
    t1, t2 = (small_ct.with_array(small_ct.array, modality=m) for m in ("MR-T1", "MR-T2"))
    case = Case("a", mr_weightings={"MR-T2": t2, "MR-T1": t1})
    assert case.mr is t1 and case.inputs == ("MR-T1", "MR-T2") and not case.is_paired


def test_wrongly_keyed_or_conflicting_weightings_are_refused(small_ct):
    t1, t2 = (small_ct.with_array(small_ct.array, modality=m) for m in ("MR-T1", "MR-T2"))
    with pytest.raises(CaseError, match="key it 'MR-T2'"):
        Case("a", mr_weightings={"MR-T1": t2})
    with pytest.raises(CaseError, match="different volumes"):
        Case("a", mr=t1, mr_weightings={"MR-T1": t1.with_array(t1.array + 1)})


def test_phantom_case_carries_its_t2(phantom):
    case = phantom.to_case()
    assert case.inputs == ("CT", "MR-T1", "MR-T2")
    assert case.mr is phantom.mr and case.mr_weightings["MR-T2"] is phantom.mr_t2


def test_fingerprint_follows_every_weighting(phantom):
    case = phantom.to_case()
    t2 = phantom.mr_t2.with_array(phantom.mr_t2.array + 1)
    other = Case(case.subject_id, ct=case.ct, mr=case.mr, mr_weightings={"MR-T2": t2})
    assert case.fingerprint != other.fingerprint


# ------------------------------------------------------------------------------ aligned
@pytest.fixture(scope="module")
def phantom():
    # A large oedema: bright on T2, so the lesion centre is a landmark one can see in the MR.
    return make_subject(2, size=32, label=1, lesion_type="oedema", lesion_radius_mm=(14.0, 15.0))


def test_aligned_by_ground_truth_puts_every_weighting_on_the_ct_grid(phantom):
    case = phantom.to_case()
    aligned = case.aligned()
    assert aligned.meta["alignment"]["source"] == "ground truth"
    assert aligned.meta["alignment"]["transform"] is case.true_transform
    assert aligned.inputs == ("CT", "MR-T1", "MR-T2") and aligned.true_transform is None
    for key, weighting in (("MR-T1", "T1"), ("MR-T2", "T2")):
        volume = aligned.mr_weightings[key]
        assert volume.same_grid(case.ct) and volume.modality == key
        np.testing.assert_allclose(volume.array, phantom.mr_on_ct_grid(weighting).array, atol=1e-4)
    assert aligned.mr is aligned.mr_weightings["MR-T1"]
    assert aligned.ct is case.ct and aligned.masks == case.masks
    assert aligned.fingerprint != case.fingerprint
    assert "alignment" not in case.meta  # the original is untouched


def test_a_ct_landmark_lands_on_the_same_anatomy_in_the_aligned_mr(phantom):
    case = phantom.to_case()
    aligned = case.aligned()
    lesion = case.masks["lesion"].array > 0.5
    centre = tuple(np.round(ndimage.center_of_mass(lesion)).astype(int))  # (z, y, x) on the CT grid
    white_matter = phantom.tissue.array == Tissue.WHITE_MATTER
    t2 = aligned.mr_weightings["MR-T2"].array
    assert t2[centre] > 1.5 * np.median(t2[white_matter])  # the lesion centre is oedema: bright on T2
    # Where the truth takes the landmark in the MR (numpy geometry, not SimpleITK): the aligned MR shows
    # exactly the MR interpolated there, so the landmark sits on the same anatomy well within half a voxel.
    point = case.ct.index_to_physical(np.array(centre[::-1], dtype=float))
    mr_zyx = case.mr.physical_to_index(case.true_transform.TransformPoint(tuple(point)))[::-1]
    for key, volume in case.mr_weightings.items():
        expected = ndimage.map_coordinates(volume.array, mr_zyx[:, None], order=1)[0]
        assert aligned.mr_weightings[key].array[centre] == pytest.approx(expected, rel=1e-4)
    inverse = case.aligned(transform=case.true_transform.GetInverse()).mr.array[centre]  # wrong direction
    assert inverse != pytest.approx(aligned.mr.array[centre], rel=0.05)


def test_aligned_with_a_given_transform_records_it(phantom):
    case = phantom.to_case()
    shift = sitk.TranslationTransform(3, (4.0, 0.0, 0.0))
    aligned = case.aligned(transform=shift)
    assert aligned.meta["alignment"] == {"source": "given", "transform": shift}
    assert aligned.fingerprint not in (case.fingerprint, case.aligned().fingerprint)


def test_without_a_transform_the_case_says_register_first(phantom):
    case = Case("real", ct=phantom.ct, mr=phantom.mr, mr_weightings={"MR-T2": phantom.mr_t2})
    with pytest.raises(CaseError, match=r"not on the CT grid.*register the MR to the CT first.*Register & Fuse"):
        case.aligned()


def test_mr_already_on_the_ct_grid_is_kept_as_it_is(phantom):
    on_grid = phantom.mr_on_ct_grid()
    case = Case("resampled", ct=phantom.ct, mr=on_grid)
    aligned = case.aligned()
    assert aligned.meta["alignment"] == {"source": "already on the CT grid", "transform": None}
    assert aligned.mr is on_grid and aligned.fingerprint != case.fingerprint


def test_aligning_needs_both_modalities(phantom):
    with pytest.raises(CaseError, match="has no MR"):
        Case("ct-only", ct=phantom.ct).aligned()
    with pytest.raises(CaseError, match="has no CT"):
        Case("mr-only", mr=phantom.mr).aligned()
