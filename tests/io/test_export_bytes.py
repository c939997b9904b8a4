"""volume_to_nifti_bytes / transform_to_tfm_bytes: download bytes that load back as what was written."""

from __future__ import annotations

import gzip

import numpy as np
import SimpleITK as sitk

from fusion_core.io import load_volume, transform_to_tfm_bytes, volume_to_nifti_bytes

NIFTI_ATOL = 1e-5  # NIfTI-1 stores the affine in float32


def test_nifti_bytes_load_back_with_voxels_geometry_and_modality(tmp_path, small_ct):
    data = volume_to_nifti_bytes(small_ct)
    assert gzip.decompress(data)[344:348] == b"n+1\x00"  # a gzipped single-file NIfTI-1
    path = tmp_path / "download.nii.gz"
    path.write_bytes(data)
    loaded = load_volume(path)
    np.testing.assert_allclose(loaded.array, small_ct.array, atol=1e-4)
    np.testing.assert_allclose(loaded.spacing, small_ct.spacing, atol=NIFTI_ATOL)
    np.testing.assert_allclose(loaded.origin, small_ct.origin, atol=NIFTI_ATOL * 100)
    assert loaded.modality == "CT"


def test_fill_nan_replaces_non_finite_voxels_only(tmp_path, small_ct):
    array = small_ct.array.copy()
    array[0, 0, :3] = [np.nan, np.inf, -np.inf]
    path = tmp_path / "error.nii.gz"
    path.write_bytes(volume_to_nifti_bytes(small_ct.with_array(array), fill_nan=0.0))
    loaded = load_volume(path, modality="CT").array
    np.testing.assert_array_equal(loaded[0, 0, :3], 0.0)
    np.testing.assert_allclose(loaded[1:], small_ct.array[1:], atol=1e-4)


def test_tfm_bytes_read_back_as_the_same_transform(tmp_path):
    transform = sitk.Euler3DTransform((1.0, 2.0, 3.0), 0.1, -0.2, 0.05, (4.0, -5.0, 6.0))
    path = tmp_path / "t.tfm"
    path.write_bytes(transform_to_tfm_bytes(transform))
    back = sitk.ReadTransform(str(path))
    for point in [(0.0, 0.0, 0.0), (10.0, -20.0, 30.0)]:
        np.testing.assert_allclose(back.TransformPoint(point), transform.TransformPoint(point), atol=1e-9)
