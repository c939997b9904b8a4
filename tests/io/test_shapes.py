"""2-D images load as one slice; 4-D take the first volume and say so; vectors are refused."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.io import VolumeLoadError, load_volume, load_volume_with_report


def test_2d_nifti_loads_as_one_slice(tmp_path):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)  # (x, y)
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 3.0, 1.0, 1.0])), tmp_path / "flat.nii")
    volume = load_volume(tmp_path / "flat.nii", modality="MR")
    assert volume.shape == (1, 4, 3)
    np.testing.assert_allclose(volume.spacing[:2], (2.0, 3.0))
    np.testing.assert_array_equal(volume.array[0], data.T)


def test_2d_mha_loads_as_one_slice(tmp_path):
    image = sitk.GetImageFromArray(np.ones((4, 5), np.float32))
    image.SetSpacing((0.5, 0.25))
    sitk.WriteImage(image, tmp_path / "flat.mha")
    volume = load_volume(tmp_path / "flat.mha", modality="MR")
    assert volume.shape == (1, 4, 5)
    np.testing.assert_allclose(volume.spacing[:2], (0.5, 0.25))


def test_4d_nifti_takes_first_volume_with_note(tmp_path):
    data = np.stack([np.full((3, 4, 5), t, np.float32) for t in (7.0, 8.0, 9.0)], axis=-1)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "fmri.nii.gz")
    volume, notes = load_volume_with_report(tmp_path / "fmri.nii.gz", modality="MR")
    assert volume.shape == (5, 4, 3)
    assert np.all(volume.array == 7.0)
    assert any("4-D image with 3 volumes" in note and "took the first" in note for note in notes)


def test_4d_mha_takes_first_volume_with_note(tmp_path):
    data = np.stack([np.full((3, 4, 5), t, np.float32) for t in (1.0, 2.0)])  # (t, z, y, x)
    sitk.WriteImage(sitk.GetImageFromArray(data, isVector=False), tmp_path / "series.mha")
    volume, notes = load_volume_with_report(tmp_path / "series.mha", modality="MR")
    assert volume.shape == (3, 4, 5)
    assert np.all(volume.array == 1.0)
    assert any("2 volumes" in note for note in notes)


def test_trailing_singleton_axis_is_dropped_silently(tmp_path):
    nib.save(nib.Nifti1Image(np.ones((3, 4, 5, 1), np.float32), np.eye(4)), tmp_path / "one.nii")
    volume, notes = load_volume_with_report(tmp_path / "one.nii", modality="MR")
    assert volume.shape == (5, 4, 3)
    assert notes == []


def test_vector_mha_is_refused(tmp_path):
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((3, 4, 5, 3), np.float32), isVector=True), tmp_path / "rgb.mha")
    with pytest.raises(VolumeLoadError, match=r"rgb\.mha.*3 components.*scalar scan is needed"):
        load_volume(tmp_path / "rgb.mha")


def test_vector_nifti_is_refused(tmp_path):
    image = nib.Nifti1Image(np.ones((3, 4, 5, 1, 3), np.float32), np.eye(4))
    image.header.set_intent("vector")
    nib.save(image, tmp_path / "field.nii")
    with pytest.raises(VolumeLoadError, match=r"field\.nii.*vector image"):
        load_volume(tmp_path / "field.nii")
