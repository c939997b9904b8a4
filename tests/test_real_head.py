"""A real head beside the phantom: nilearn's MNI152 T1 template (shipped inside the nilearn wheel, no
network) loaded through our io, registered to a moved copy of itself, viewed, turned into a synthetic
CT by a T1-only model, and reported."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.case import Case
from fusion_core.io import load_volume
from fusion_core.preprocess.resample import resample_to
from fusion_core.volume import Volume

LOW_RES_MM = 3.0
TRUE_MOVE = {"rotation_deg": (4.0, -3.0, 6.0), "translation_mm": (5.0, -4.0, 3.0)}


@pytest.fixture(scope="module")
def mni_file(tmp_path_factory):
    """(the template as nilearn gives it, the same saved as NIfTI)."""
    from nilearn.datasets import load_mni152_template

    image = load_mni152_template(resolution=2)
    path = tmp_path_factory.mktemp("mni") / "mni152_t1.nii.gz"
    image.to_filename(path)
    return image, path


@pytest.fixture(scope="module")
def mni_t1(mni_file) -> Volume:
    """The template read by ``load_volume``, on a 3 mm grid (speed), intensities on the 0..1000 MR scale."""
    full = load_volume(mni_file[1], modality="MR-T1")
    shape = tuple(round(n * s / LOW_RES_MM) for n, s in zip(full.shape, full.spacing[::-1], strict=True))
    grid = Volume(np.zeros(shape, np.float32), (LOW_RES_MM,) * 3, full.origin, full.direction, "MR-T1")
    low = resample_to(full, grid)
    return low.with_array(low.array * 1000.0, name="MNI152 T1")


def _true_transform(volume: Volume) -> sitk.Euler3DTransform:
    centre = (volume.affine @ np.append((np.asarray(volume.size_xyz) - 1) / 2, 1.0))[:3]
    transform = sitk.Euler3DTransform()
    transform.SetCenter(centre.tolist())
    transform.SetRotation(*np.radians(TRUE_MOVE["rotation_deg"]))
    transform.SetTranslation(TRUE_MOVE["translation_mm"])
    return transform


def test_the_template_loads_as_a_head(mni_file, mni_t1):
    image, path = mni_file
    full = load_volume(path)
    assert np.allclose(full.ras_affine, image.affine, atol=1e-3)  # RAS file -> LPS volume -> same place
    assert full.shape == image.shape[::-1]
    assert np.isfinite(mni_t1.array).all() and mni_t1.array.max() > 500
    assert (mni_t1.array > 100).mean() > 0.2  # a head fills much of the field of view


def test_registers_to_a_moved_copy_of_itself(mni_t1):
    from fusion_core.registration import head_mask_array, register_rigid, sample_points_in_mask, tre_before_after

    truth = _true_transform(mni_t1)
    moved = resample_to(mni_t1, mni_t1, transform=truth.GetInverse())  # moved(x) = template(truth^-1 x)
    result = register_rigid(mni_t1, moved, levels=(2, 1), smoothing=(1.0, 0.0), multi_start_deg=0.0)
    points = sample_points_in_mask(head_mask_array(mni_t1), 200, reference=mni_t1, seed=0)
    tre = tre_before_after(result.transform, truth, points)  # fixed -> moving points: the truth itself
    assert tre.median_before > 5.0
    assert tre.median_after < 1.0  # a third of a voxel at 3 mm


def test_views_render_the_real_head(mni_t1):
    from fusion_core.viz import views

    canon = views.canonical(mni_t1)
    for plane in views.Plane:
        index = views.slice_count(canon, plane) // 2
        rgb = views.render_slice(canon, plane, index, window=views.default_window(canon))
        assert rgb.ndim == 3 and rgb.dtype == np.uint8
        assert 0.1 < (rgb[..., 0] > 40).mean() < 0.95  # a head on a dark background, not blank or saturated


@pytest.mark.slow
def test_a_t1_only_model_makes_a_ct_of_the_real_head(mni_t1):
    from fusion_core.inference import impute, load_model

    synthetic = impute(load_model("synth-unet-t1"), {"MR-T1": mni_t1}, "CT")
    assert synthetic.modality == "CT" and synthetic.same_grid(mni_t1)
    inside = mni_t1.array > 200
    assert np.isfinite(synthetic.array).all()
    assert np.median(synthetic.array[~inside]) < -500  # air stays air
    assert -100 < np.median(synthetic.array[inside]) < 200  # the head is soft tissue around water


@pytest.mark.slow
def test_the_report_of_the_real_head_warns_it_is_not_a_phantom(mni_t1):
    from fusion_core.report import build_case_report, render_html

    case = Case("mni152", mr=mni_t1)
    text = render_html(build_case_report(case, models=("synth-unet-t1",), source="nilearn MNI152 template"))
    assert "not validated on this kind of scan" in text
    assert "CT from MR: synth-unet-t1" in text and "<script" not in text and "https://" not in text
