"""Volume: validation, geometry, SimpleITK and RAS round trips, and the no-UI import rule."""

from __future__ import annotations

import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.volume import Volume, is_mr, lps_to_ras_affine, normalise_modality


def test_sitk_round_trip_keeps_geometry(small_ct, oblique_direction):
    volume = Volume(
        small_ct.array, spacing=(0.7, 0.8, 2.5), origin=(10, -20, 30), direction=oblique_direction, modality="CT"
    )
    back = Volume.from_sitk(volume.to_sitk(), modality="CT")
    assert back.same_grid(volume, atol=1e-9)
    np.testing.assert_array_equal(back.array, volume.array)


def test_index_order_matches_simpleitk(small_ct):
    image = small_ct.to_sitk()
    assert image.GetSize() == small_ct.size_xyz
    z, y, x = 3, 5, 7
    assert image.GetPixel(x, y, z) == pytest.approx(float(small_ct.array[z, y, x]))
    np.testing.assert_allclose(small_ct.index_to_physical([x, y, z]), image.TransformIndexToPhysicalPoint((x, y, z)))


def test_physical_index_inverse(small_ct, oblique_direction):
    volume = Volume(small_ct.array, spacing=(1, 2, 3), direction=oblique_direction, origin=(5, 6, 7))
    points = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 9.0]])
    np.testing.assert_allclose(volume.index_to_physical(volume.physical_to_index(points)), points, atol=1e-9)


def test_ras_affine_matches_nibabel_convention(small_ct):
    # nibabel's RAS affine of an LPS identity grid flips x and y.
    affine_ras = small_ct.ras_affine
    assert affine_ras[0, 0] < 0 and affine_ras[1, 1] < 0 and affine_ras[2, 2] > 0
    nifti = nib.Nifti1Image(np.transpose(small_ct.array, (2, 1, 0)), affine_ras)
    back = Volume.from_ras_affine(np.asarray(nifti.dataobj), nifti.affine, modality="CT")
    assert back.same_grid(small_ct, atol=1e-9)
    np.testing.assert_array_equal(back.array, small_ct.array)
    np.testing.assert_allclose(lps_to_ras_affine(lps_to_ras_affine(affine_ras)), affine_ras)


def test_orientation_codes():
    array = np.zeros((2, 2, 2))
    assert Volume(array).orientation_code == "LPS"
    assert Volume(array, direction=(-1, 0, 0, 0, -1, 0, 0, 0, 1)).orientation_code == "RAS"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"array": np.zeros((4, 4))}, "3-D"),
        ({"array": np.zeros((0, 4, 4))}, "zero-sized"),
        ({"array": np.zeros((2, 2, 2)), "spacing": (1, 0, 1)}, "spacing"),
        ({"array": np.zeros((2, 2, 2)), "direction": (1, 0, 0)}, "direction needs 9"),
        ({"array": np.zeros((2, 2, 2)), "direction": (2, 0, 0, 0, 1, 0, 0, 0, 1)}, "orthonormal"),
    ],
)
def test_invalid_volumes_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Volume(**kwargs)


def test_with_array_keeps_grid_and_checks_shape(small_ct):
    doubled = small_ct.with_array(small_ct.array * 2, modality="MR")
    assert doubled.same_grid(small_ct) and doubled.modality == "MR"
    with pytest.raises(ValueError, match="shape"):
        small_ct.with_array(np.zeros((2, 2, 2)))


def test_two_dimensional_sitk_image_becomes_one_slice():
    volume = Volume.from_sitk(sitk.Image(5, 4, sitk.sitkInt16))
    assert volume.shape == (1, 4, 5)


def test_modality_names():
    assert normalise_modality("ct") == "CT"
    assert normalise_modality("t2") == "MR-T2"
    assert normalise_modality(None) == "UNKNOWN"
    assert is_mr("MR-T1") and is_mr("mri") and not is_mr("CT")


def test_core_never_imports_streamlit():
    code = (
        "import sys, pkgutil, importlib, fusion_core\n"
        "for m in pkgutil.walk_packages(fusion_core.__path__, 'fusion_core.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'streamlit' not in sys.modules, 'fusion_core imported streamlit'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
