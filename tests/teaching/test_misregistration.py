import numpy as np
import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.errors import FusionError
from fusion_core.teaching.misregistration import (
    CURVE_FILE,
    CURVE_MODELS,
    MisregistrationCurve,
    misalign_mr,
    misregistration_view,
    read_curve,
    voxelwise_aucs,
    weights_fingerprint,
    write_curve,
)


@pytest.fixture(scope="module")
def case():
    return make_subject(5, size=48, label=1).to_case().aligned()


def test_mutual_information_falls_with_the_shift_and_the_rotation(case):
    shifts = [misregistration_view(case, shift_mm=s).mutual_information for s in (0.0, 3.0, 8.0)]
    assert shifts[0] > shifts[1] > shifts[2]
    assert misregistration_view(case, rotation_deg=10.0).mutual_information < shifts[0]


def test_zero_offset_keeps_the_aligned_mr(case):
    moved = misalign_mr(case)
    for name, mr in case.mr_weightings.items():
        assert np.allclose(moved[name].array, mr.array, atol=1e-3 * np.abs(mr.array).max())


def test_a_shift_moves_the_mr_by_that_many_mm(case):
    spacing_x = case.ct.spacing[0]
    moved = misalign_mr(case, shift_mm=3 * spacing_x)["MR-T1"].array
    original = case.mr_weightings["MR-T1"].array
    errors = [np.abs(np.roll(original, k, axis=2) - moved)[:, :, 6:-6].mean() for k in (-3, 0, 3)]
    assert min(errors) < 0.2 * errors[1]  # a whole-voxel roll one way or the other explains it


def test_curve_round_trips_and_a_missing_file_says_how_to_make_it(tmp_path):
    curve = MisregistrationCurve(
        np.array([0.0, 4.0]), {"clf-early": np.array([0.9, 0.6])}, np.array([0.8, 0.3]), ("a", "b"), 1
    )
    back = read_curve(write_curve(curve, tmp_path / "c.json"))
    assert back.auc["clf-early"].tolist() == [0.9, 0.6] and back.subject_ids == ("a", "b")
    with pytest.raises(FusionError, match=r"python -m fusion_core\.teaching\.misregistration"):
        read_curve(tmp_path / "none.json")


@pytest.mark.skipif(not CURVE_FILE.is_file(), reason="no precomputed curve in assets/teaching")
def test_shipped_curve_voxelwise_fusion_falls_with_the_offset():
    curve = read_curve()
    assert set(curve.auc) == {"clf-early", "clf-late", "voxel-wise early fusion"}
    voxelwise = curve.auc["voxel-wise early fusion"]
    assert np.all(np.diff(curve.mutual_information) < 0)
    assert voxelwise[-1] < voxelwise[0] - 0.1  # voxel-by-voxel fusion needs alignment


@pytest.mark.skipif(not CURVE_FILE.is_file(), reason="no precomputed curve in assets/teaching")
def test_shipped_curve_was_measured_on_the_shipped_weights():
    # a retrained classifier needs a new curve: python -m fusion_core.teaching.misregistration
    assert read_curve().weights == {name: weights_fingerprint(name) for name in CURVE_MODELS}


def test_voxelwise_early_fusion_falls_with_the_shift():
    cases = [
        make_subject(seed, size=48, label=1, lesion_type="subacute-haemorrhage").to_case().aligned()
        for seed in range(4)
    ]
    aucs = voxelwise_aucs(cases, offsets_mm=(0.0, 6.0, 12.0))
    assert aucs[0] > 0.9
    assert aucs[0] > aucs[1] > aucs[2]
