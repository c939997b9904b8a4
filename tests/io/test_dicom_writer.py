"""write_dicom_series / dicom_series_zip: the series reads back on the same grid, validates, carries provenance."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from scipy.spatial.transform import Rotation

from fusion_core.io import VolumeSaveError, dicom_series_zip, load_volume, write_dicom_series
from fusion_core.io.dicom_writer import PLACEHOLDER_PATIENT_ID, PLACEHOLDER_PATIENT_NAME, Provenance
from fusion_core.volume import Volume
from tests.io.dicom_factory import write_series

OBLIQUE = tuple(Rotation.from_euler("xyz", [12.0, -20.0, 33.0], degrees=True).as_matrix().ravel())


def _ct(direction=OBLIQUE, shape=(6, 20, 24), seed=0) -> Volume:
    rng = np.random.default_rng(seed)
    hu = rng.uniform(-1024, 2500, shape).astype(np.float32)
    return Volume(hu, spacing=(0.7, 0.9, 2.5), origin=(-101.3, 20.5, 1127.0), direction=direction, modality="CT")


def _assert_same_grid(read: Volume, written: Volume) -> None:
    assert np.allclose(read.spacing, written.spacing, atol=0.01)
    assert np.allclose(read.origin, written.origin, atol=0.01)
    assert np.allclose(read.direction, written.direction, atol=1e-4)
    assert read.shape == written.shape


def _headers(paths: list[Path]) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]


@pytest.fixture(scope="module")
def dciodvfy() -> str:
    """Debian's dciodvfy (dicom3tools); `make test` installs it and then this never skips."""
    path = os.environ.get("DCIODVFY", "/usr/bin/dciodvfy")
    found = path if Path(path).exists() else shutil.which("dciodvfy")
    if found is None:
        if os.environ.get("FUSION_REQUIRE_BROWSER"):
            pytest.fail("dciodvfy is required for the DICOM tests (make test installs Debian's dicom3tools)")
        pytest.skip("dciodvfy not installed (make test installs Debian's dicom3tools)")
    return found


def _validation_errors(tool: str, path: Path) -> list[str]:
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60, check=False)
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


def test_oblique_ct_reads_back_on_its_grid_in_hu(tmp_path):
    ct = _ct()
    paths = write_dicom_series(ct, tmp_path / "sct", model="synth-unet-t1")
    read = load_volume(tmp_path / "sct")
    assert len(paths) == ct.shape[0] and read.modality == "CT"
    _assert_same_grid(read, ct)
    assert np.abs(read.array - ct.array).max() <= 1.0


def test_left_handed_volume_keeps_every_voxel_in_place(tmp_path):
    ct = _ct(direction=(1, 0, 0, 0, 1, 0, 0, 0, -1))
    write_dicom_series(ct, tmp_path / "sct")
    read = load_volume(tmp_path / "sct")
    back = sitk.Resample(read.to_sitk(), ct.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor)
    assert np.abs(sitk.GetArrayFromImage(back) - ct.array).max() <= 1.0


def test_without_reference_placeholders_and_provenance(tmp_path):
    paths = write_dicom_series(_ct(), tmp_path / "sct", model="synth-unet-t1")
    headers = _headers(paths)
    first = headers[0]
    version = Provenance.of("synth-unet-t1").card_version
    assert first.SOPClassUID == pydicom.uid.CTImageStorage == first.file_meta.MediaStorageSOPClassUID
    assert list(first.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert str(first.PatientName) == PLACEHOLDER_PATIENT_NAME and first.PatientID == PLACEHOLDER_PATIENT_ID
    assert "synth-unet-t1" in first.SeriesDescription and version in first.SeriesDescription
    assert "synth-unet-t1" in first.DerivationDescription and version in first.DerivationDescription
    assert "SourceImageSequence" not in first
    assert len({h.SOPInstanceUID for h in headers}) == len(headers)
    assert len({h.SeriesInstanceUID for h in headers}) == 1
    assert [h.InstanceNumber for h in headers] == list(range(1, len(headers) + 1))


def test_with_reference_copies_patient_and_study_with_new_uids(tmp_path):
    ref_paths = write_series(tmp_path / "mr", np.zeros((3, 8, 8)), modality="MR", intercept=0.0)
    ref = pydicom.dcmread(ref_paths[0])
    mr = _ct().with_array(np.random.default_rng(1).uniform(0, 1000, (6, 20, 24)), modality="MR-T1")
    paths = write_dicom_series(mr, tmp_path / "smr", reference=tmp_path / "mr", model="vae-poe")
    headers = _headers(paths)
    first = headers[0]
    assert first.SOPClassUID == pydicom.uid.MRImageStorage and first.Modality == "MR"
    assert (str(first.PatientName), first.PatientID) == (str(ref.PatientName), ref.PatientID)
    assert first.StudyInstanceUID == ref.StudyInstanceUID
    assert first.SeriesInstanceUID != ref.SeriesInstanceUID
    assert {h.SOPInstanceUID for h in headers}.isdisjoint({pydicom.dcmread(p).SOPInstanceUID for p in ref_paths})
    assert {item.ReferencedSOPInstanceUID for item in first.SourceImageSequence} == {
        pydicom.dcmread(p).SOPInstanceUID for p in ref_paths
    }
    read = load_volume(tmp_path / "smr")
    _assert_same_grid(read, mr)
    assert np.abs(read.array - mr.array).max() <= 1.0


@pytest.mark.parametrize("form", ["files", "dataset"])
def test_reference_as_files_or_dataset(tmp_path, form):
    ref_paths = write_series(tmp_path / "mr", np.zeros((2, 8, 8)), modality="MR", intercept=0.0)
    reference = ref_paths if form == "files" else pydicom.dcmread(ref_paths[0])
    paths = write_dicom_series(_ct(shape=(2, 8, 8)), tmp_path / "sct", reference=reference)
    assert pydicom.dcmread(paths[0]).StudyInstanceUID == pydicom.dcmread(ref_paths[0]).StudyInstanceUID


def test_reference_without_dicom_is_refused_in_words(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no scans here")
    with pytest.raises(VolumeSaveError, match="holds no readable DICOM image"):
        write_dicom_series(_ct(), tmp_path / "out", reference=tmp_path / "notes")


def test_narrow_range_scan_is_rescaled_not_rounded_away(tmp_path):
    mr = _ct().with_array(np.random.default_rng(2).normal(0, 1, (6, 20, 24)), modality="MR-T1")
    write_dicom_series(mr, tmp_path / "z")
    read = load_volume(tmp_path / "z")
    assert np.abs(read.array - mr.array).max() <= 1e-3


def test_zip_holds_the_series(tmp_path):
    ct = _ct(shape=(4, 10, 12))
    data = dicom_series_zip(ct, model="synth-unet-t1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "unzipped")
    assert names == [f"IM{k:06d}.dcm" for k in range(1, 5)]
    _assert_same_grid(load_volume(tmp_path / "unzipped"), ct)


@pytest.mark.parametrize("with_reference", [False, True])
@pytest.mark.parametrize("modality", ["CT", "MR-T1"])
def test_dciodvfy_finds_no_errors(tmp_path, dciodvfy, modality, with_reference):
    reference = write_series(tmp_path / "ref", np.zeros((2, 8, 8)), modality="MR") if with_reference else None
    volume = _ct(shape=(3, 10, 12)).with_array(np.random.default_rng(3).uniform(0, 900, (3, 10, 12)), modality=modality)
    paths = write_dicom_series(volume, tmp_path / "out", reference=reference, model="vae-poe")
    for path in (paths[0], paths[-1]):
        assert _validation_errors(dciodvfy, path) == []


@pytest.mark.slow
def test_pipeline_exports_each_synthetic_volume_as_a_dicom_zip(tmp_path):
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.pipeline.__main__ import parse_args
    from fusion_core.pipeline.config import PipelineConfig
    from fusion_core.pipeline.subject import synthesise_step

    assert parse_args(["--cohort", "c", "--out", "o", "--export", "dicom"]).export == ["dicom"]
    with pytest.raises(ValueError, match="export format"):
        PipelineConfig(export=("pdf",))
    case = get_cohort_spec("demo").subject(0).to_case().aligned()
    config = PipelineConfig(steps=("synthesise",), synthesis_models=("synth-unet-t1",), export=("dicom",))
    volumes = {key: _slab(v, 30, 34) for key, v in {"CT": case.ct, **case.mr_weightings}.items()}
    generated = synthesise_step(volumes, config, tmp_path, case)
    archive = tmp_path / "generated" / "synth-unet-t1_CT_dicom.zip"
    zipfile.ZipFile(archive).extractall(tmp_path / "sct")
    read = load_volume(tmp_path / "sct")
    _assert_same_grid(read, generated[("synth-unet-t1", "CT")])
    assert np.abs(read.array - generated[("synth-unet-t1", "CT")].array).max() <= 1.0


def _slab(volume: Volume, start: int, stop: int) -> Volume:
    """Slices ``start:stop`` of a volume, in place in space (a fast model input)."""
    origin = volume.affine @ np.array([0.0, 0.0, start, 1.0])
    return Volume(volume.array[start:stop], volume.spacing, tuple(origin[:3]), volume.direction, volume.modality)
