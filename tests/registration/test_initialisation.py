"""Registration starts where the scans are: scanners that disagree on coordinates, partial fields of view."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.registration import (
    Initialization,
    RegistrationError,
    StartingPoint,
    box_overlap_fraction,
    choose_initialisation,
    head_mask_array,
    register_rigid,
    sample_points_in_mask,
    target_registration_error,
)
from fusion_core.registration.scenarios import cropped_along_z, moved_origin

# 96 voxels in-plane (2.3 mm): small enough to register in seconds, fine enough for sub-0.5 mm TRE.
SIZE = 96


@pytest.fixture(scope="module")
def subject():
    return make_subject(2, size=SIZE)


def _tre(result, subject, true) -> np.ndarray:
    return target_registration_error(result.transform, true, sample_points_in_mask(subject.masks["head"], 100))


def _heads(fixed, moving):
    return head_mask_array(fixed), head_mask_array(moving)


def test_origins_hundreds_of_mm_apart_register_from_the_head_centres(subject):
    mr, true = moved_origin(subject.mr, subject.true_transform, (350.0, -420.0, 610.0))
    assert box_overlap_fraction(subject.ct, mr) == 0  # no overlap at all in scanner space
    result = register_rigid(subject.ct, mr)
    assert result.initialisation.used is StartingPoint.HEAD_CENTRES
    assert "do not overlap" in result.initialisation.reason
    assert np.median(_tre(result, subject, true)) <= 0.5
    assert result.coverage > 0.9


def test_mr_covering_part_of_the_ct_registers_within_the_overlap(subject):
    mr = cropped_along_z(subject.mr, subject.ct, 0.6)
    result = register_rigid(subject.ct, mr)
    assert result.initialisation.used is StartingPoint.AS_ACQUIRED
    assert "part of the head" in result.initialisation.reason
    assert np.median(_tre(result, subject, subject.true_transform)) <= 0.5
    assert 0.4 < result.coverage < 0.8  # about 60 % of the CT's z extent: the top of the head, not the neck
    note = result.initialisation_note
    assert "covers" in note and f"{result.coverage:.0%}" in note


def test_whole_overlapping_heads_start_from_their_centres(synthetic_pair):
    choice = choose_initialisation(
        synthetic_pair.ct, synthetic_pair.mr, Initialization.AUTO, _heads(synthetic_pair.ct, synthetic_pair.mr)
    )
    assert choice.used is StartingPoint.HEAD_CENTRES and choice.overlap > 0.9
    assert choice.head_extent_ratio > 0.85


def test_barely_overlapping_scans_say_how_little(synthetic_pair):
    mr, _ = moved_origin(synthetic_pair.mr, synthetic_pair.true_transform, (0.0, 0.0, 100.0))
    choice = choose_initialisation(synthetic_pair.ct, mr, Initialization.AUTO, _heads(synthetic_pair.ct, mr))
    assert choice.used is StartingPoint.HEAD_CENTRES
    assert 0 < choice.overlap < 0.5 and f"overlap by only {choice.overlap:.0%}" in choice.reason


def test_without_a_head_the_image_centres_are_used(synthetic_pair):
    mr, _ = moved_origin(synthetic_pair.mr, synthetic_pair.true_transform, (900.0, 0.0, 0.0))
    choice = choose_initialisation(synthetic_pair.ct, mr, Initialization.AUTO, None)
    assert choice.used is StartingPoint.IMAGE_CENTRES and "no head" in choice.reason


@pytest.mark.parametrize(
    ("requested", "used"),
    [
        ("moments", StartingPoint.HEAD_CENTRES),
        ("geometry", StartingPoint.IMAGE_CENTRES),
        ("none", StartingPoint.AS_ACQUIRED),
    ],
)
def test_a_requested_start_is_used_as_asked(synthetic_pair, requested, used):
    heads = _heads(synthetic_pair.ct, synthetic_pair.mr)
    choice = choose_initialisation(synthetic_pair.ct, synthetic_pair.mr, Initialization(requested), heads)
    assert choice.used is used and "registration options" in choice.reason


def test_scanner_coordinates_cannot_start_scans_that_do_not_overlap(synthetic_pair):
    far, _ = moved_origin(synthetic_pair.mr, synthetic_pair.true_transform, (1000.0, 0.0, 0.0))
    with pytest.raises(RegistrationError, match="do not overlap in physical space") as error:
        register_rigid(synthetic_pair.ct, far, initialization="none")
    assert "=" not in str(error.value) and "require_overlap" not in str(error.value)


def test_cropping_keeps_the_true_grid(subject):
    mr = cropped_along_z(subject.mr, subject.ct, 0.5, from_top=False)
    assert mr.shape[1:] == subject.mr.shape[1:] and mr.shape[0] < subject.mr.shape[0]
    index = subject.mr.physical_to_index(np.array([mr.origin]))[0]  # (x, y, z) in the uncropped scan
    np.testing.assert_allclose(index, [0.0, 0.0, round(index[2])], atol=1e-6)  # only whole slices dropped
    assert round(index[2]) > 0  # the bottom of the MR lay below the CT: some slices went
    np.testing.assert_array_equal(mr.array, subject.mr.array[round(index[2]) : round(index[2]) + mr.shape[0]])
    with pytest.raises(ValueError, match="fraction must be in"):
        cropped_along_z(subject.mr, subject.ct, 1.5)
