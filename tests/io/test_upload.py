"""Safe zip extraction and loading uploaded bytes."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.io import VolumeLoadError, extract_zip_safely, load_upload, save_volume
from tests.io.bad_inputs import zip_bytes
from tests.io.dicom_factory import write_series


def test_extracts_nested_members(tmp_path):
    target = extract_zip_safely(zip_bytes({"a/b/c.txt": b"hello", "d.txt": b"x"}), tmp_path / "out")
    assert (target / "a" / "b" / "c.txt").read_bytes() == b"hello"
    assert (target / "d.txt").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("name", "problem"),
    [("../evil.txt", r"escapes the target folder"), ("a/../../evil.txt", r"escapes the target folder"),
     ("/etc/evil.txt", r"absolute path"), ("C:/evil.txt", r"absolute path")],
)  # fmt: skip
def test_refuses_escaping_members(tmp_path, name, problem):
    with pytest.raises(VolumeLoadError, match=rf"uploaded zip.*member '{name}'.*{problem}"):
        extract_zip_safely(zip_bytes({name: b"x"}), tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_refuses_symlinks(tmp_path):
    with pytest.raises(VolumeLoadError, match=r"member 'link'.*symbolic link"):
        extract_zip_safely(zip_bytes({"ok.txt": b"x"}, symlink="link"), tmp_path / "out")


def test_refuses_too_many_files(tmp_path):
    members = {f"f{i}.txt": b"x" for i in range(6)}
    with pytest.raises(VolumeLoadError, match=r"holds 6 files, more than the limit of 5"):
        extract_zip_safely(zip_bytes(members), tmp_path / "out", max_files=5)


def test_refuses_a_bomb_by_declared_size(tmp_path):
    bomb = zip_bytes({"zeros.bin": bytes(10_000_000)})
    assert len(bomb) < 20_000
    with pytest.raises(VolumeLoadError, match=r"unpack to 10,000,000 bytes, more than the limit of 1,000,000"):
        extract_zip_safely(bomb, tmp_path / "out", max_total_bytes=1_000_000)


def test_refuses_a_bomb_that_lies_about_its_size(tmp_path):
    blob = bytearray(zip_bytes({"zeros.bin": bytes(5_000_000)}))
    # Patch the declared uncompressed size (local header at 22, central directory at +24) to 100 bytes.
    central = blob.rfind(b"PK\x01\x02")
    for offset in (22, central + 24):
        blob[offset : offset + 4] = (100).to_bytes(4, "little")
    with pytest.raises(VolumeLoadError, match=r"member 'zeros\.bin' (unpacks to more than it declares|is corrupt)"):
        extract_zip_safely(bytes(blob), tmp_path / "out", max_total_bytes=1_000_000)
    out = tmp_path / "out" / "zeros.bin"
    assert not out.exists() or out.stat().st_size <= 1_000_000


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(VolumeLoadError, match=r"x\.zip.*not a readable zip archive"):
        extract_zip_safely(tmp_path / "x.zip", tmp_path / "out")


def test_load_upload_of_a_nifti_keeps_its_suffix_but_not_its_name(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "src.nii.gz")
    volume, notes = load_upload("../../My Scan.nii.gz", (tmp_path / "src.nii.gz").read_bytes(), tmp_path / "work")
    assert volume.same_grid(small_ct, atol=1e-4) and volume.modality == "CT"
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["upload.nii.gz"]
    assert notes == []


def test_a_corrupt_upload_is_named_by_the_users_file_name_not_the_server_path(tmp_path):
    with pytest.raises(VolumeLoadError) as info:
        load_upload("broken.nii.gz", b"\x1f\x8b" + b"x" * 500, tmp_path / "work")
    message = str(info.value)
    assert message.startswith("cannot load 'broken.nii.gz': ") and ("NIfTI" in message or "gzip" in message)
    assert str(tmp_path) not in message and "upload.nii" not in message and "Error:" not in message


def test_upload_size_limit_is_checked_before_parsing(tmp_path, monkeypatch):
    with pytest.raises(VolumeLoadError, match=r"big\.nii.*2\.0 MB, above the upload limit of 1 MB"):
        load_upload("big.nii", bytes(2 * 2**20), tmp_path, max_bytes=2**20)
    monkeypatch.setenv("FUSION_MAX_UPLOAD_MB", "0.5")
    with pytest.raises(VolumeLoadError, match=r"FUSION_MAX_UPLOAD_MB"):
        load_upload("big.nii", bytes(2**20), tmp_path)
    assert not any(tmp_path.iterdir())


def test_load_upload_of_a_zipped_dicom_series(tmp_path, rng):
    hu = rng.integers(-1000, 1000, (4, 5, 6)).astype(np.float32)
    files = write_series(tmp_path / "src", hu)
    data = zip_bytes({f"DICOM/{p.name}": p.read_bytes() for p in files})
    volume, _ = load_upload("series.zip", data, tmp_path / "work")
    np.testing.assert_array_equal(volume.array, hu)
    assert volume.modality == "CT"
    _, notes = load_upload("series.zip", data, tmp_path / "again", modality="MR")
    assert any("DICOM Modality tag says 'CT'" in note for note in notes)


def test_load_upload_errors(tmp_path):
    with pytest.raises(VolumeLoadError, match=r"scan\.nii.*uploaded file is empty"):
        load_upload("scan.nii", b"", tmp_path)
    with pytest.raises(VolumeLoadError, match=r"picture\.jpg.*unsupported file type"):
        load_upload("picture.jpg", b"\xff\xd8\xff", tmp_path)
    with pytest.raises(VolumeLoadError, match=r"no readable DICOM series"):
        load_upload("empty.zip", zip_bytes({"readme.txt": b"hi"}), tmp_path)
