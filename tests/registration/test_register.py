"""Registration recovers a known transform on a small synthetic pair and fails clearly on bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.registration import (
    RegistrationError,
    register,
    register_rigid,
    sample_points_in_mask,
    target_registration_error,
)
from fusion_core.volume import Volume


@pytest.fixture(scope="module")
def rigid_result(synthetic_pair):
    calls = []
    result = register_rigid(synthetic_pair.ct, synthetic_pair.mr, progress=lambda f, m: calls.append((f, m)))
    return result, calls


def _tre(result, pair) -> np.ndarray:
    return target_registration_error(result.transform, pair.true_transform, sample_points_in_mask(pair.head, 100))


def test_rigid_recovers_known_transform(rigid_result, synthetic_pair):
    result, _ = rigid_result
    tre = _tre(result, synthetic_pair)
    start_tre = target_registration_error(
        sitk.Euler3DTransform(), synthetic_pair.true_transform, synthetic_pair.ct.index_to_physical(np.zeros((1, 3)))
    )
    assert start_tre[0] > 5  # the pair really starts misaligned
    assert np.median(tre) < 1.0 and tre.max() < 2.0  # 3 mm voxels: sub-voxel


def test_result_records_what_it_did(rigid_result, synthetic_pair):
    result, calls = rigid_result
    assert result.resampled.same_grid(synthetic_pair.ct)
    assert result.resampled.modality == "MR-T1"
    finest = result.metric_history[result.level_starts[-1] :]  # metric values compare within a level only
    assert len(result.level_starts) == 4 and len(finest) > 5 and min(finest) < finest[0]
    assert "Optimizer" in result.stop_reason and result.seconds > 0
    assert len(result.start_metrics) == 7 and result.options.mode == "rigid"
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] < 0.1
    assert any("finalist" in message for _, message in calls)


def test_multi_start_escapes_large_rotation(synthetic_pair):
    from tests.registration.conftest import make_pair

    pair = make_pair(rotation_deg=(0.0, 0.0, 50.0), shift_mm=(4.0, 0.0, 0.0))
    single = register_rigid(pair.ct, pair.mr, multi_start_deg=0.0)
    multi = register_rigid(pair.ct, pair.mr, multi_start_deg=20.0)
    assert np.median(_tre(single, pair)) > 2.0  # one start lands in a wrong local optimum here
    assert np.median(_tre(multi, pair)) < 1.0


@pytest.mark.parametrize("mode", ["affine", "bspline"])
def test_other_modes_stay_close(synthetic_pair, mode):
    result = register(synthetic_pair.ct, synthetic_pair.mr, mode=mode, multi_start_deg=0.0)
    assert np.median(_tre(result, synthetic_pair)) < 2.0
    assert result.resampled.same_grid(synthetic_pair.ct)


def test_unknown_mode_lists_allowed_values(synthetic_pair):
    with pytest.raises(ValueError, match="allowed values: 'rigid', 'affine', 'bspline'"):
        register(synthetic_pair.ct, synthetic_pair.mr, mode="elastic")


def test_register_rigid_refuses_a_mode(synthetic_pair):
    with pytest.raises(TypeError, match="always rigid"):
        register_rigid(synthetic_pair.ct, synthetic_pair.mr, mode="affine")


def test_no_physical_overlap_is_an_error_only_from_scanner_coordinates(synthetic_pair):
    """Scans that do not overlap register from their head centres (tests/registration/test_initialisation.py);
    a start from the scanner coordinates, asked for explicitly, cannot work and says so."""
    far = dataclasses.replace(synthetic_pair.mr, origin=(1000.0, 0.0, 0.0))
    with pytest.raises(RegistrationError, match="do not overlap in physical space"):
        register_rigid(synthetic_pair.ct, far, initialization="none")


def test_constant_image_is_an_error(synthetic_pair):
    flat = synthetic_pair.mr.with_array(np.full(synthetic_pair.mr.shape, 7.0, np.float32))
    with pytest.raises(RegistrationError, match=r"moving image .* is constant"):
        register_rigid(synthetic_pair.ct, flat)


def test_single_slice_against_volume_is_an_error(synthetic_pair):
    one = Volume(synthetic_pair.mr.array[20:21], spacing=synthetic_pair.mr.spacing, modality="MR")
    with pytest.raises(RegistrationError, match="2-D/3-D mix: the moving image is a single slice"):
        register_rigid(synthetic_pair.ct, one)
    with pytest.raises(RegistrationError, match="both images are single slices"):
        register_rigid(one, one)


def test_ct_without_head_is_an_error(synthetic_pair):
    air = synthetic_pair.ct.with_array(
        np.linspace(-1000, -900, synthetic_pair.ct.array.size, dtype=np.float32).reshape(synthetic_pair.ct.shape)
    )
    with pytest.raises(RegistrationError, match="no foreground in CT"):
        register_rigid(air, synthetic_pair.mr)


def test_a_large_fine_image_is_registered_on_a_working_grid(monkeypatch, synthetic_pair):
    """Full-size CTs run the optimiser on a copy no finer than the MR (memory); the result stays on
    the original grid and as accurate."""
    import SimpleITK as sitk

    import fusion_core.registration.core as core

    fine_ct = Volume.from_sitk(sitk.Expand(synthetic_pair.ct.to_sitk(), [2, 2, 2]), modality="CT")
    monkeypatch.setattr(core, "MAX_WORKING_VOXELS", fine_ct.array.size - 1)
    work = core._working_grid(fine_ct, synthetic_pair.mr)
    assert work.shape == synthetic_pair.ct.shape and np.allclose(work.spacing, synthetic_pair.ct.spacing)
    np.testing.assert_allclose(work.center_mm, fine_ct.center_mm, atol=1e-6)
    assert core._working_grid(synthetic_pair.mr, fine_ct) is synthetic_pair.mr  # small: untouched
    result = register_rigid(fine_ct, synthetic_pair.mr)
    assert result.resampled.same_grid(fine_ct)
    assert np.median(_tre(result, synthetic_pair)) < 1.0
