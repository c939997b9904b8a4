"""What the WebGL viewer receives: compact NIfTI bytes that keep each scan's values and geometry."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from fusion_core.volume import Volume
from ui.viewer import payload


def _decode(data: bytes) -> nib.Nifti1Image:
    return nib.Nifti1Image.from_bytes(gzip.decompress(data))


def test_ct_travels_in_whole_hounsfield_units_with_its_ras_geometry():
    ct = Volume(
        np.linspace(-1000, 2000, 6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8),
        spacing=(0.5, 0.7, 2.0),
        origin=(10, -20, 30),
        modality="CT",
    )
    image = _decode(payload.encode(ct).nifti_gz)
    assert image.get_data_dtype() == np.int16
    assert np.allclose(image.affine, ct.ras_affine)
    assert np.allclose(np.asarray(image.dataobj).T, np.rint(ct.array))  # NIfTI (x, y, z) -> Volume (z, y, x)


def test_mr_values_survive_the_16_bit_scaling():
    mr = Volume(np.random.default_rng(0).random((5, 6, 7), dtype=np.float32) * 800 + 3, modality="MR")
    values = np.asarray(_decode(payload.encode(mr).nifti_gz).get_fdata()).T
    assert np.abs(values - mr.array).max() < 800 / 32000


@pytest.mark.parametrize(("size", "stride"), [((128, 128, 88), 1), ((512, 512, 400), 2), ((256, 256, 176), 1)])
def test_a_large_ct_is_downsampled_to_fit_and_says_so(size, stride):
    assert payload.stride_for(size) == stride
    assert 2 * np.prod(size) / stride**3 <= payload.VOLUME_BUDGET_BYTES


def test_downsampled_copy_keeps_the_physical_position_of_voxel_zero_and_the_note_names_both_sizes():
    ct = Volume(np.zeros((40, 50, 60), np.float32), spacing=(1, 1, 2), origin=(5, 6, 7), modality="CT")
    encoded = payload.encode(ct, budget_bytes=2 * 40 * 50 * 60 // 8)
    image = _decode(encoded.nifti_gz)
    assert encoded.stride == 2 and image.shape == (30, 25, 20)
    assert np.allclose(image.affine[:3, 3], ct.ras_affine[:3, 3]) and np.allclose(image.header.get_zooms(), (2, 2, 4))
    assert encoded.resolution_note == "shown at 30 × 25 × 20 (every 2nd voxel) of 60 × 50 × 40"


def test_lps_to_index_inverts_the_volume_affine():
    volume = Volume(np.zeros((4, 5, 6), np.float32), spacing=(1, 2, 3), origin=(-1, 2, 5))
    matrix = np.reshape(payload.lps_to_index(volume), (4, 4))
    point = volume.index_to_physical([1.0, 2.0, 3.0])
    assert np.allclose((matrix @ [*point, 1.0])[:3], [1, 2, 3])
