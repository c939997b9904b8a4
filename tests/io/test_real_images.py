"""Real images that ship inside PyPI packages: nilearn's MNI152 template, pydicom's CT/MR slices."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from fusion_core.io import load_volume, load_volume_with_report, save_volume


@pytest.fixture(scope="module")
def pydicom_file():
    from pydicom.data import get_testdata_file

    def get(name: str) -> str:
        path = get_testdata_file(name, download=False)
        if path is None:
            pytest.skip(f"pydicom does not ship {name}")
        return path

    return get


def test_mni152_template_loads_with_shape_spacing_orientation(tmp_path):
    from nilearn.datasets import load_mni152_template

    image = load_mni152_template(resolution=2)
    image.to_filename(tmp_path / "mni.nii.gz")
    volume, notes = load_volume_with_report(tmp_path / "mni.nii.gz", modality="MR-T1")
    x, y, z = image.shape
    assert volume.shape == (z, y, x)
    np.testing.assert_allclose(volume.spacing, (2.0, 2.0, 2.0))
    # RAS+ storage (x runs left->right) reads as "RAS" in ITK's LPS letters: L->R is "R", P->A is "A".
    assert volume.orientation_code == "RAS"
    # World position of voxel (0,0,0) in RAS is (-98, -134, -72); in LPS x and y flip.
    np.testing.assert_allclose(volume.origin, (98.0, 134.0, -72.0))
    on_disk = nib.load(tmp_path / "mni.nii.gz").get_fdata()  # the file stores uint8 + scaling
    np.testing.assert_allclose(volume.array, np.transpose(on_disk, (2, 1, 0)), rtol=1e-6, atol=1e-7)
    assert notes == []


def test_mni152_template_modality_guess_is_mr_with_a_note(tmp_path):
    from nilearn.datasets import load_mni152_template

    load_mni152_template(resolution=2).to_filename(tmp_path / "mni.nii")
    volume, notes = load_volume_with_report(tmp_path / "mni.nii")
    assert volume.modality == "MR"
    assert any("guessed 'MR'" in note for note in notes)


def test_pydicom_ct_slice_is_in_hounsfield_units(pydicom_file):
    import pydicom
    from pydicom.pixels import apply_rescale

    path = pydicom_file("CT_small.dcm")
    volume = load_volume(path)
    ds = pydicom.dcmread(path)
    assert volume.modality == "CT"
    assert volume.shape == (1, ds.Rows, ds.Columns)
    np.testing.assert_allclose(volume.array[0], apply_rescale(ds.pixel_array, ds))
    assert -1100 < volume.array.min() < 0 < volume.array.max() < 3000  # plausible HU
    np.testing.assert_allclose(volume.spacing[:2], [float(s) for s in ds.PixelSpacing][::-1])


def test_pydicom_mr_slice_has_modality_from_tag(pydicom_file):
    volume = load_volume(pydicom_file("MR_small.dcm"), modality="CT")
    assert volume.modality == "MR"
    assert volume.shape == (1, 64, 64)
    assert volume.array.min() >= 0


def test_pydicom_truncated_and_non_image_files_are_refused(pydicom_file):
    from fusion_core.io import VolumeLoadError

    with pytest.raises(VolumeLoadError, match=r"MR_truncated\.dcm.*(unreadable|could not read)"):
        load_volume(pydicom_file("MR_truncated.dcm"))
    with pytest.raises(VolumeLoadError, match=r"rtplan\.dcm.*holds no image.*RT Plan Storage"):
        load_volume(pydicom_file("rtplan.dcm"))
    with pytest.raises(VolumeLoadError, match=r"SC_rgb_rle\.dcm.*colour DICOM image"):
        load_volume(pydicom_file("SC_rgb_rle.dcm"))


def test_real_ct_slice_round_trips_through_nifti(tmp_path, pydicom_file):
    volume = load_volume(pydicom_file("CT_small.dcm"))
    save_volume(volume, tmp_path / "ct.nii.gz")
    again = load_volume(tmp_path / "ct.nii.gz")
    assert again.modality == "CT"
    assert again.same_grid(volume, atol=1e-4)
    np.testing.assert_array_equal(again.array, volume.array)
