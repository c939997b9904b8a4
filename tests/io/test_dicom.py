"""DICOM files and series: HU, spacing, modality tag, several series in one folder."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.io import VolumeLoadError, load_volume, load_volume_with_report
from tests.io.dicom_factory import write_series


@pytest.fixture
def hu(rng) -> np.ndarray:
    return rng.integers(-1000, 2000, (5, 6, 7)).astype(np.float32)


def test_series_loads_with_hu_spacing_and_origin(tmp_path, hu):
    write_series(tmp_path, hu, spacing=(0.8, 0.9, 2.5), origin=(-10.0, -20.0, 30.0), slope=2.0, intercept=-1024)
    volume, notes = load_volume_with_report(tmp_path)
    assert volume.shape == hu.shape
    np.testing.assert_array_equal(volume.array, 2.0 * np.round((hu + 1024) / 2.0) - 1024)  # slope 2 quantises
    np.testing.assert_allclose(volume.spacing, (0.8, 0.9, 2.5))
    np.testing.assert_allclose(volume.origin, (-10.0, -20.0, 30.0))
    assert volume.modality == "CT"
    assert volume.name == "test series"
    assert notes == []


def test_series_files_in_shuffled_order_are_sorted_by_position(tmp_path, hu):
    write_series(tmp_path, hu, positions_mm=[30.0 + 2.5 * k for k in (3, 0, 4, 1, 2)])
    volume = load_volume(tmp_path)
    np.testing.assert_array_equal(volume.array, hu[[1, 3, 4, 0, 2]])


def test_two_series_take_the_largest_and_say_so(tmp_path, hu):
    write_series(tmp_path, hu, series_number=3, description="axial CT")
    write_series(tmp_path, hu[:2] * 0 + 300, series_number=9, description="scout", modality="MR", intercept=0)
    volume, notes = load_volume_with_report(tmp_path)
    assert volume.shape == hu.shape
    assert volume.modality == "CT"
    assert len(notes) == 1
    assert "2 DICOM series" in notes[0] and "took the largest: series 3 'axial CT' [CT] (5 files)" in notes[0]
    assert "series 9 'scout' [MR] (2 files)" in notes[0]


def test_series_in_a_subfolder_is_found(tmp_path, hu):
    write_series(tmp_path / "patient" / "study" / "series", hu)
    assert load_volume(tmp_path).shape == hu.shape


def test_one_file_of_the_series_loads_as_one_slice(tmp_path, hu):
    files = write_series(tmp_path, hu, modality="MR", intercept=0.0)
    volume = load_volume(files[2])
    assert volume.shape == (1, 6, 7)
    np.testing.assert_array_equal(volume.array[0], hu[2])
    assert volume.modality == "MR"


def test_dicom_without_suffix_is_recognised(tmp_path, hu):
    files = write_series(tmp_path / "s", hu)
    bare = files[0].rename(tmp_path / "IM0001")
    assert load_volume(bare).shape == (1, 6, 7)


def test_irregular_slice_spacing_is_noted(tmp_path, hu):
    write_series(tmp_path, hu, positions_mm=[0.0, 2.0, 4.0, 8.0, 10.0])
    _, notes = load_volume_with_report(tmp_path)
    assert any("slice spacing is irregular (2 to 4 mm)" in note for note in notes)


def test_tag_modality_beats_the_callers_but_an_mr_weighting_refines_it(tmp_path, hu):
    files = write_series(tmp_path, hu, modality="MR", intercept=0.0)
    assert load_volume(files[0], modality="MR-T2").modality == "MR-T2"
    volume, notes = load_volume_with_report(files[0], modality="CT")
    assert volume.modality == "MR"
    assert any("modality 'CT' was requested but the DICOM Modality tag says 'MR'" in note for note in notes)


def test_a_text_file_named_dcm(tmp_path):
    (tmp_path / "report.dcm").write_text("not dicom at all")
    with pytest.raises(VolumeLoadError, match=r"report\.dcm.*not a DICOM file"):
        load_volume(tmp_path / "report.dcm")


def test_truncated_pixel_data(tmp_path, hu):
    files = write_series(tmp_path, hu)
    blob = files[0].read_bytes()
    files[0].write_bytes(blob[:-40])
    with pytest.raises(VolumeLoadError, match=r"s1_000\.dcm.*(pixel data is unreadable|could not read)"):
        load_volume(files[0])
