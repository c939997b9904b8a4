"""save_volume -> load_volume keeps voxels, geometry and modality."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from fusion_core.io import VolumeSaveError, load_volume, load_volume_with_report, save_volume
from fusion_core.volume import Volume

# NIfTI-1 stores the affine in float32: geometry comes back to float32 precision, not bit-exact.
NIFTI_ATOL = 1e-5
ITK_ATOL = 1e-12


@pytest.fixture
def oblique_mr(rng, oblique_direction) -> Volume:
    array = rng.normal(100, 20, (5, 6, 7)).astype(np.float32)
    return Volume(
        array, spacing=(0.7, 1.1, 2.3), origin=(-12.345, 33.3, 100.1), direction=oblique_direction, modality="MR-T1"
    )


def assert_same_geometry(a: Volume, b: Volume, atol: float) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a.spacing, b.spacing, atol=atol, rtol=0)
    np.testing.assert_allclose(a.origin, b.origin, atol=atol * 100, rtol=1e-7)
    np.testing.assert_allclose(a.direction, b.direction, atol=atol, rtol=0)


@pytest.mark.parametrize(("suffix", "atol"), [(".nii", NIFTI_ATOL), (".nii.gz", NIFTI_ATOL), (".mha", ITK_ATOL),
                                              (".mhd", ITK_ATOL), (".nrrd", ITK_ATOL)])  # fmt: skip
def test_round_trip_keeps_voxels_geometry_and_modality(tmp_path, oblique_mr, suffix, atol):
    path = tmp_path / f"scan{suffix}"
    save_volume(oblique_mr, path)
    loaded, notes = load_volume_with_report(path)
    assert_same_geometry(loaded, oblique_mr, atol)
    np.testing.assert_array_equal(loaded.array, oblique_mr.array)
    assert loaded.modality == "MR-T1"
    assert loaded.orientation_code == oblique_mr.orientation_code
    assert notes == []


def test_round_trip_ct_is_stored_as_int16_and_exact(tmp_path, small_ct):
    ct = small_ct.with_array(np.round(small_ct.array))
    for suffix in (".nii.gz", ".mha"):
        save_volume(ct, tmp_path / f"ct{suffix}")
        loaded = load_volume(tmp_path / f"ct{suffix}")
        np.testing.assert_array_equal(loaded.array, ct.array)
        assert loaded.modality == "CT"
    assert nib.load(tmp_path / "ct.nii.gz").get_data_dtype() == np.int16


def test_nifti_sets_matching_qform_and_sform(tmp_path, oblique_mr):
    save_volume(oblique_mr, tmp_path / "scan.nii.gz")
    header = nib.load(tmp_path / "scan.nii.gz").header
    assert int(header["qform_code"]) > 0 and int(header["sform_code"]) > 0
    np.testing.assert_allclose(header.get_qform(), header.get_sform(), atol=1e-5)
    np.testing.assert_allclose(header.get_sform(), oblique_mr.ras_affine, atol=1e-4)


def test_nifti_is_ras_on_disk_and_lps_in_memory(tmp_path):
    """An identity-direction LPS volume must be stored with x and y flipped (RAS) in the file."""
    volume = Volume(np.zeros((2, 3, 4), np.float32), spacing=(1, 2, 3), origin=(10, 20, 30), modality="MR")
    save_volume(volume, tmp_path / "scan.nii")
    affine = nib.load(tmp_path / "scan.nii").affine
    np.testing.assert_allclose(np.diag(affine)[:3], [-1, -2, 3])
    np.testing.assert_allclose(affine[:3, 3], [-10, -20, 30])


def test_save_refuses_unknown_suffix(tmp_path, small_ct):
    with pytest.raises(VolumeSaveError, match=r"scan\.png.*unsupported suffix.*\.nii\.gz"):
        save_volume(small_ct, tmp_path / "scan.png")


def test_save_creates_missing_parent_folders(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "a" / "b" / "ct.mha")
    assert load_volume(tmp_path / "a" / "b" / "ct.mha").same_grid(small_ct)
