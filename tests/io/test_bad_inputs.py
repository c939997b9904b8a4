"""Every bad input becomes a VolumeLoadError naming the file and the problem."""

from __future__ import annotations

import gzip
import tracemalloc

import nibabel as nib
import numpy as np
import pytest

from fusion_core.io import VolumeLoadError, load_volume, load_volume_with_report, save_volume
from fusion_core.volume import Volume

HUGE_SHAPE = (2000, 2000, 1000)  # 4e9 voxels, 16 GB as float32


def nifti_header_bytes(shape, dtype=np.float32) -> bytes:
    """A NIfTI-1 header (348 bytes + 4 extension bytes) claiming ``shape``, with no voxel data."""
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header["vox_offset"] = 352
    return header.binaryblock + b"\0" * 4


def test_error_is_a_value_error_with_path_attribute(tmp_path):
    with pytest.raises(ValueError) as info:
        load_volume(tmp_path / "nothing.nii.gz")
    assert isinstance(info.value, VolumeLoadError)
    assert info.value.path.name == "nothing.nii.gz"


def test_missing_path(tmp_path):
    with pytest.raises(VolumeLoadError, match=r"nothing\.nii\.gz.*no such file"):
        load_volume(tmp_path / "nothing.nii.gz")


@pytest.mark.parametrize("name", ["empty.nii", "empty.nii.gz", "empty.mha", "empty.dcm"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(VolumeLoadError, match=rf"{name}.*empty \(0 bytes\)"):
        load_volume(tmp_path / name)


def test_unsupported_extension_lists_supported(tmp_path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(VolumeLoadError, match=r"photo\.png.*unsupported file type '\.png'.*\.nii\.gz.*\.mha.*DICOM"):
        load_volume(tmp_path / "photo.png")


def test_text_file_named_nii(tmp_path):
    (tmp_path / "notes.nii").write_text("this is not an image\n" * 40)
    with pytest.raises(VolumeLoadError, match=r"notes\.nii.*not a valid NIfTI file"):
        load_volume(tmp_path / "notes.nii")


def test_file_too_small_for_a_nifti_header(tmp_path):
    (tmp_path / "short.nii").write_bytes(nifti_header_bytes((4, 4, 4))[:300])
    with pytest.raises(VolumeLoadError, match=r"short\.nii.*300 bytes, too small for a NIfTI header"):
        load_volume(tmp_path / "short.nii")


def test_text_file_named_mha(tmp_path):
    (tmp_path / "notes.mha").write_text("hello\n")
    with pytest.raises(VolumeLoadError, match=r"notes\.mha.*not a readable image header"):
        load_volume(tmp_path / "notes.mha")


def test_plain_bytes_named_gz(tmp_path):
    (tmp_path / "fake.nii.gz").write_bytes(nifti_header_bytes((4, 4, 4)))
    with pytest.raises(VolumeLoadError, match=r"fake\.nii\.gz.*not gzip-compressed"):
        load_volume(tmp_path / "fake.nii.gz")


def test_truncated_gzip(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "ct.nii.gz")
    blob = (tmp_path / "ct.nii.gz").read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(VolumeLoadError, match=r"cut\.nii\.gz.*truncated or corrupt"):
        load_volume(tmp_path / "cut.nii.gz")


def test_corrupt_gzip_stream(tmp_path, rng):
    volume = Volume(rng.normal(size=(8, 8, 8)).astype(np.float32), modality="MR")
    save_volume(volume, tmp_path / "ok.nii.gz")
    blob = bytearray((tmp_path / "ok.nii.gz").read_bytes())
    middle = len(blob) // 2
    blob[middle : middle + 64] = bytes(64)  # zero out part of the deflate stream
    (tmp_path / "bad.nii.gz").write_bytes(bytes(blob))
    with pytest.raises(VolumeLoadError, match=r"bad\.nii\.gz.*(truncated or corrupt|could not read)"):
        load_volume(tmp_path / "bad.nii.gz")


@pytest.mark.parametrize("compressed", [False, True])
def test_absurd_nifti_header_is_refused_before_allocating(tmp_path, compressed):
    blob = nifti_header_bytes(HUGE_SHAPE)
    path = tmp_path / ("huge.nii.gz" if compressed else "huge.nii")
    path.write_bytes(gzip.compress(blob) if compressed else blob)
    tracemalloc.start()
    with pytest.raises(VolumeLoadError, match=r"huge\.nii.*4,000,000,000 voxels.*above the limit"):
        load_volume(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20  # refused from the header: nothing near the 16 GB it claims was allocated


def test_nifti_header_claiming_more_data_than_the_file_holds(tmp_path):
    (tmp_path / "liar.nii").write_bytes(nifti_header_bytes((100, 100, 100)))
    with pytest.raises(VolumeLoadError, match=r"liar\.nii.*declares 4,000,000 bytes.*holds only 0 after its header"):
        load_volume(tmp_path / "liar.nii")


def test_voxel_cap_is_configurable(tmp_path, small_ct, monkeypatch):
    save_volume(small_ct, tmp_path / "ct.mha")
    with pytest.raises(VolumeLoadError, match=r"ct\.mha.*4,096 voxels.*limit of 1,000"):
        load_volume(tmp_path / "ct.mha", max_voxels=1000)
    monkeypatch.setenv("FUSION_MAX_VOXELS", "100")
    with pytest.raises(VolumeLoadError, match=r"limit of 100\b"):
        load_volume(tmp_path / "ct.mha")


def mha_header(dims: str, *, data_file: str = "LOCAL", compressed: bool = False) -> str:
    return (
        "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
        f"CompressedData = {compressed}\nDimSize = {dims}\nElementType = MET_FLOAT\nElementDataFile = {data_file}\n"
    )


def test_absurd_mha_header_is_refused(tmp_path):
    (tmp_path / "huge.mha").write_bytes(mha_header("100000 100000 100000").encode() + b"\0" * 16)
    with pytest.raises(VolumeLoadError, match=r"huge\.mha.*1,000,000,000,000,000 voxels.*above the limit"):
        load_volume(tmp_path / "huge.mha")


def test_mha_claiming_more_data_than_it_holds(tmp_path):
    (tmp_path / "liar.mha").write_bytes(mha_header("100 100 100").encode() + b"\0" * 16)
    with pytest.raises(VolumeLoadError, match=r"liar\.mha.*declares 4,000,000 bytes.*holds only 16"):
        load_volume(tmp_path / "liar.mha")


def test_mhd_whose_raw_file_is_missing(tmp_path):
    (tmp_path / "scan.mhd").write_text(mha_header("4 4 4", data_file="scan.raw"))
    with pytest.raises(VolumeLoadError, match=r"scan\.mhd.*data file 'scan\.raw'.*does not exist"):
        load_volume(tmp_path / "scan.mhd")


def test_truncated_raw_nrrd(tmp_path):
    header = "NRRD0004\ntype: float\ndimension: 3\nsizes: 10 10 10\nencoding: raw\nendian: little\n\n"
    (tmp_path / "cut.nrrd").write_bytes(header.encode() + b"\0" * 100)
    with pytest.raises(VolumeLoadError, match=r"cut\.nrrd.*declares 4,000 bytes.*holds only 100"):
        load_volume(tmp_path / "cut.nrrd")


def test_zero_sized_axis(tmp_path):
    (tmp_path / "flat.nii").write_bytes(nifti_header_bytes((4, 0, 4)))
    with pytest.raises(VolumeLoadError, match=r"flat\.nii.*zero-sized axis"):
        load_volume(tmp_path / "flat.nii")


def test_zero_sized_axis_mha(tmp_path):
    (tmp_path / "flat.mha").write_bytes(mha_header("4 0 4").encode())
    with pytest.raises(VolumeLoadError, match=r"flat\.mha.*(zero-sized axis|not a readable image header)"):
        load_volume(tmp_path / "flat.mha")


def test_nan_and_inf_are_repaired_with_a_note(tmp_path, rng):
    array = rng.normal(50, 10, (4, 5, 6)).astype(np.float32)
    array[0, 0, :3] = [np.nan, np.inf, -np.inf]
    nib.save(nib.Nifti1Image(np.transpose(array, (2, 1, 0)), np.eye(4)), tmp_path / "holes.nii")
    volume, notes = load_volume_with_report(tmp_path / "holes.nii", modality="MR")
    assert np.all(np.isfinite(volume.array))
    np.testing.assert_array_equal(volume.array[0, 0, :3], np.nanmin(array[np.isfinite(array)]))
    assert any("3 NaN/Inf voxels replaced with the minimum finite value" in note for note in notes)


def test_all_nan_is_refused(tmp_path):
    nib.save(nib.Nifti1Image(np.full((3, 3, 3), np.nan, np.float32), np.eye(4)), tmp_path / "void.nii")
    with pytest.raises(VolumeLoadError, match=r"void\.nii.*every voxel is NaN or infinite"):
        load_volume(tmp_path / "void.nii")


def test_folder_without_dicom(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(VolumeLoadError, match=rf"{tmp_path.name}.*no readable DICOM series.*1 files looked at"):
        load_volume(tmp_path)


def test_folder_with_one_image_file_loads_it_with_a_note(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "sub" / "ct.nii.gz")
    volume, notes = load_volume_with_report(tmp_path)
    assert volume.same_grid(small_ct, atol=1e-4)
    assert any("holds no DICOM series" in note and "ct.nii.gz" in note for note in notes)


def test_folder_with_several_image_files_asks_for_one(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "a.mha")
    save_volume(small_ct, tmp_path / "b.mha")
    with pytest.raises(VolumeLoadError, match=r"no readable DICOM series.*2 image files \(a\.mha, b\.mha\)"):
        load_volume(tmp_path)


def test_gzipped_nifti_claiming_more_data_than_it_holds(tmp_path):
    (tmp_path / "liar.nii.gz").write_bytes(gzip.compress(nifti_header_bytes((10, 10, 10)) + b"\0" * 40))
    with pytest.raises(VolumeLoadError, match=r"liar\.nii\.gz.*declares 4,000 bytes.*holds only 40 after its header"):
        load_volume(tmp_path / "liar.nii.gz")


def test_truncated_compressed_mha(tmp_path, rng):
    save_volume(Volume(rng.normal(size=(8, 8, 8)).astype(np.float32), modality="MR"), tmp_path / "ok.mha")
    blob = (tmp_path / "ok.mha").read_bytes()
    (tmp_path / "cut.mha").write_bytes(blob[: len(blob) - 200])
    with pytest.raises(VolumeLoadError, match=r"cut\.mha.*truncated or corrupt"):
        load_volume(tmp_path / "cut.mha")


def test_loaded_nifti_does_not_follow_later_changes_to_the_file(tmp_path):
    """No memory map: a Volume must not change (or break) when its file is rewritten or deleted."""
    path = tmp_path / "slice.nii"
    nib.save(nib.Nifti1Image(np.full((4, 4), 5.0, np.float32), np.eye(4)), path)
    volume = load_volume(path, modality="MR")
    blob = bytearray(path.read_bytes())
    blob[352:] = np.full(16, 9.0, np.float32).tobytes()
    path.write_bytes(bytes(blob))
    path.unlink()
    assert np.all(volume.array == 5.0)
