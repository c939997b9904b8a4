"""The pure array functions behind the readers."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.io.checks import check_header_shape, looks_like_ct, repair_non_finite, resolve_modality
from fusion_core.io.errors import VolumeLoadError, library_message


def test_repair_non_finite_replaces_with_minimum_and_counts():
    array = np.array([3.0, np.nan, -2.0, np.inf], np.float32)
    repaired, count = repair_non_finite(array)
    np.testing.assert_array_equal(repaired, [3.0, -2.0, -2.0, -2.0])
    assert count == 2
    assert repaired.dtype == np.float32


def test_repair_non_finite_leaves_clean_arrays_alone():
    array = np.ones(4, np.float32)
    repaired, count = repair_non_finite(array)
    assert repaired is array and count == 0


def test_repair_non_finite_refuses_all_nan():
    with pytest.raises(ValueError, match="every voxel is NaN or infinite"):
        repair_non_finite(np.full(3, np.nan))


def test_looks_like_ct(small_ct, rng):
    assert looks_like_ct(small_ct.array)
    assert not looks_like_ct(rng.normal(300, 80, (16, 16, 16)))  # MR-like
    assert not looks_like_ct(rng.normal(0, 1, (16, 16, 16)))  # z-scored MR
    padded = np.concatenate([small_ct.array.ravel(), np.full(500, -3024.0)])
    assert looks_like_ct(padded)


def test_resolve_modality_precedence():
    ct_like = np.full(10, -1000.0)
    assert resolve_modality(tag="CT", requested="MR", stored=None, array=ct_like)[0] == "CT"
    assert resolve_modality(tag=None, requested="t1", stored="CT", array=ct_like) == ("MR-T1", [])
    assert resolve_modality(tag=None, requested=None, stored="MR-T2", array=ct_like) == ("MR-T2", [])
    assert resolve_modality(tag=None, requested="MR", stored="MR-T2", array=ct_like) == ("MR-T2", [])
    assert resolve_modality(tag=None, requested="MR-T1", stored="MR-T2", array=ct_like) == ("MR-T1", [])
    modality, notes = resolve_modality(tag=None, requested=None, stored=None, array=ct_like)
    assert modality == "CT" and "guessed 'CT'" in notes[0]


def test_check_header_shape_uses_exact_integers(tmp_path):
    with pytest.raises(VolumeLoadError, match=r"x\.nii.*(2\^64|18,446,744,073,709,551,616) voxels"):
        check_header_shape(tmp_path / "x.nii", (2**32, 2**32), max_voxels=10)
    assert check_header_shape(tmp_path / "x.nii", (2, 3, 4), max_voxels=24) == 24


def test_library_message_drops_itk_source_locations():
    exc = RuntimeError(
        "Exception thrown in SimpleITK ImageFileReader_Execute: /work/src/Code/IO/src/sitkImageReaderBase.cxx:91:\n"
        'sitk::ERROR: The file "x.mha" does not exist.'
    )
    assert library_message(exc) == 'The file "x.mha" does not exist.'


def test_library_message_cuts_paths_to_base_names():
    exc = OSError('Cannot work out file type of "/tmp/fusion-upload-x1/upload.nii.gz" in /srv/data/ab')
    assert library_message(exc) == 'Cannot work out file type of "upload.nii.gz" in ab'
    assert library_message(ValueError()) == "ValueError"
