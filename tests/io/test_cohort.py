"""load_cohort: SynthRAD folders, cohort.csv labels, manifest.csv (paired and unpaired), errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.io import CohortError, VolumeLoadError, load_cohort, save_volume
from fusion_core.volume import Volume


@pytest.fixture
def mr_volume(rng) -> Volume:
    return Volume(rng.normal(300, 50, (6, 8, 8)).astype(np.float32), spacing=(2, 2, 3), modality="MR")


def make_synthrad(root: Path, ct: Volume, mr: Volume) -> Path:
    save_volume(ct, root / "1HNA001" / "ct.nii.gz")
    save_volume(mr, root / "1HNA001" / "mr.nii.gz")
    save_volume(ct.with_array(ct.array > 0), root / "1HNA001" / "mask.nii.gz")
    save_volume(ct, root / "1HNA002" / "ct.mha")
    save_volume(mr, root / "1HNA002" / "t1.nrrd")
    save_volume(mr, root / "1HNA002" / "t2.nrrd")
    save_volume(mr, root / "1HNA003" / "mr.nii")
    save_volume(ct.with_array(ct.array > 500), root / "1HNA003" / "masks" / "bone.nii.gz")
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("not a subject")
    return root


def test_synthrad_folders_are_found_without_loading(tmp_path, small_ct, mr_volume):
    cohort = load_cohort(make_synthrad(tmp_path, small_ct, mr_volume))
    assert cohort.source == "folders"
    assert cohort.subject_ids == ["1HNA001", "1HNA002", "1HNA003"]
    assert len(cohort) == 3 and "1HNA002" in cohort
    table = cohort.table.set_index("subject_id")
    assert table["has_ct"].tolist() == [True, True, False]
    assert table["has_mr"].tolist() == [True, True, True]
    assert table.loc["1HNA002", "mr_modality"] == "MR-T1"
    assert table.loc["1HNA001", "masks"] == "head"
    assert any("skipped notes/" in note for note in cohort.notes)
    assert any("used t1.nrrd as the MR; also found t2.nrrd" in note for note in cohort.notes)


def test_load_case_reads_scans_masks_and_modalities(tmp_path, small_ct, mr_volume):
    cohort = load_cohort(make_synthrad(tmp_path, small_ct, mr_volume))
    case = cohort.load_case("1HNA001")
    assert case.is_paired and case.ct.modality == "CT" and case.mr.modality == "MR"
    assert case.ct.same_grid(small_ct, atol=1e-4)
    assert set(case.masks) == {"head"} and case.masks["head"].array.max() == 1
    assert case.meta["files"]["ct"].endswith("ct.nii.gz")
    assert cohort.load_case("1HNA002").mr.modality == "MR-T1"
    assert cohort.load_case("1HNA002").mr_weightings["MR-T2"].modality == "MR-T2"
    unpaired = cohort.load_case("1HNA003")
    assert unpaired.ct is None and unpaired.modalities == ("MR",)
    assert set(unpaired.masks) == {"bone"}
    assert [case.subject_id for case in cohort.cases] == cohort.subject_ids


def test_unknown_subject_id_is_a_cohort_error_naming_known_ones(tmp_path, small_ct, mr_volume):
    cohort = load_cohort(make_synthrad(tmp_path, small_ct, mr_volume))
    with pytest.raises(CohortError, match=r"no subject 'nobody' .*known subjects: 1HNA001, 1HNA002, 1HNA003"):
        cohort.load_case("nobody")


def test_mr_t2_beside_mr_loads_both_weightings(tmp_path, small_ct, mr_volume):
    save_volume(small_ct, tmp_path / "s1" / "ct.nii.gz")
    save_volume(mr_volume, tmp_path / "s1" / "mr.nii.gz")
    save_volume(mr_volume.with_array(mr_volume.array * 2, modality="MR-T2"), tmp_path / "s1" / "mr_t2.mha")
    cohort = load_cohort(tmp_path)
    case = cohort.load_case("s1")
    assert case.inputs == ("CT", "MR-T1", "MR-T2")
    assert case.mr is case.mr_weightings["MR-T1"] and case.mr.modality == "MR"  # a plain MR counts as T1
    np.testing.assert_allclose(case.mr_weightings["MR-T2"].array, 2 * mr_volume.array, rtol=1e-5)
    assert case.meta["files"]["mr_t2"].endswith("mr_t2.mha")
    assert cohort.table.set_index("subject_id").loc["s1", "mr_weightings"] == "MR-T1, MR-T2"


def test_a_second_file_of_one_weighting_is_skipped_with_a_note(tmp_path, small_ct, mr_volume):
    save_volume(mr_volume, tmp_path / "s1" / "mr.nii.gz")
    save_volume(mr_volume, tmp_path / "s1" / "t1.nii.gz")  # plain "mr" is already the T1
    cohort = load_cohort(tmp_path)
    assert any("skipped t1.nii.gz" in note for note in cohort.notes)
    assert cohort.load_case("s1").inputs == ("MR-T1",)


def test_cohort_csv_adds_labels_and_metadata(tmp_path, small_ct, mr_volume):
    root = make_synthrad(tmp_path, small_ct, mr_volume)
    (root / "cohort.csv").write_text("subject_id,label,site,age\n1HNA001,1,A,54\n1HNA002,0,B,61\nghost,1,A,40\n")
    cohort = load_cohort(root)
    table = cohort.table.set_index("subject_id")
    assert table.loc["1HNA001", "label"] == 1 and table.loc["1HNA002", "site"] == "B"
    assert table["label"].isna().tolist() == [False, False, True]
    assert cohort.load_case("1HNA001").label == 1
    assert cohort.load_case("1HNA002").meta["age"] == 61
    assert any("lists 1 subjects with no scans: ghost" in note for note in cohort.notes)


def test_cohort_csv_with_a_bad_label(tmp_path, small_ct, mr_volume):
    root = make_synthrad(tmp_path, small_ct, mr_volume)
    (root / "cohort.csv").write_text("subject_id,label\n1HNA001,maybe\n")
    with pytest.raises(CohortError, match=r"cohort\.csv.*1HNA001: label must be 0, 1 or empty, got 'maybe'"):
        load_cohort(root)


def test_true_transform_file_is_read(tmp_path, small_ct, mr_volume):
    root = make_synthrad(tmp_path, small_ct, mr_volume)
    transform = sitk.Euler3DTransform((1.0, 2.0, 3.0), 0.1, 0.0, 0.2, (4.0, 5.0, 6.0))
    sitk.WriteTransform(transform, str(root / "1HNA001" / "true_transform.tfm"))
    loaded = load_cohort(root).load_case("1HNA001").true_transform
    np.testing.assert_allclose(loaded.TransformPoint((1, 1, 1)), transform.TransformPoint((1, 1, 1)))


def write_manifest(root: Path, text: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.csv").write_text(text)


def test_manifest_paired_and_unpaired(tmp_path, small_ct, mr_volume):
    save_volume(small_ct, tmp_path / "scans" / "a_ct.nii.gz")
    save_volume(mr_volume, tmp_path / "scans" / "a_mr.mha")
    save_volume(mr_volume, tmp_path / "scans" / "b_t2.nii.gz")
    save_volume(mr_volume, tmp_path / "scans" / "b_t1.nii.gz")
    save_volume(small_ct, tmp_path / "scans" / "c_ct.nrrd")
    write_manifest(
        tmp_path,
        "subject_id,modality,path,label\n"
        "a,CT,scans/a_ct.nii.gz,1\na,MR,scans/a_mr.mha,\nb,t2,scans/b_t2.nii.gz,0\nb,MR-T1,scans/b_t1.nii.gz,\nc,ct,scans/c_ct.nrrd,\n",
    )
    cohort = load_cohort(tmp_path)
    assert cohort.source == "manifest"
    table = cohort.table.set_index("subject_id")
    assert table["has_ct"].tolist() == [True, False, True]
    assert table["has_mr"].tolist() == [True, True, False]
    assert table["label"].fillna(-1).tolist() == [1, 0, -1]
    b = cohort.load_case("b")
    assert b.ct is None and b.mr.modality == "MR-T1" and b.mr_weightings["MR-T2"].modality == "MR-T2"  # T1 is primary
    assert b.inputs == ("MR-T1", "MR-T2")


def test_manifest_missing_and_unknown_columns_are_listed(tmp_path):
    write_manifest(tmp_path, "subject,modality,file\nx,CT,x.nii\n")
    with pytest.raises(CohortError, match=r"manifest\.csv.*missing required columns \['subject_id', 'path'\].*"
                       r"unknown columns \['subject', 'file'\]"):  # fmt: skip
        load_cohort(tmp_path)


def test_manifest_missing_files_and_unknown_modalities(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "x.nii.gz")
    write_manifest(tmp_path, "subject_id,modality,path\nx,CT,x.nii.gz\ny,CT,missing.nii.gz\nx,US,x.nii.gz\n")
    with pytest.raises(CohortError, match=r"line 3: y: file 'missing\.nii\.gz' does not exist.*"
                       r"line 4: x: unknown modality 'US'"):  # fmt: skip
        load_cohort(tmp_path)


def test_manifest_duplicate_modality(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "x.nii.gz")
    write_manifest(tmp_path, "subject_id,modality,path\nx,CT,x.nii.gz\nx,CT,x.nii.gz\n")
    with pytest.raises(CohortError, match=r"line 3: x: a second CT file"):
        load_cohort(tmp_path)


def test_missing_root(tmp_path):
    with pytest.raises(CohortError, match=r"nowhere.*cohort folder does not exist"):
        load_cohort(tmp_path / "nowhere")


def test_root_without_subjects(tmp_path):
    (tmp_path / "empty_subject").mkdir()
    with pytest.raises(CohortError, match=r"no subjects found; expected <root>/<subject_id>/ct\.nii\.gz"):
        load_cohort(tmp_path)


def test_unreadable_scan_fails_on_load_case_naming_the_file(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "ct.nii.gz").write_bytes(b"garbage")
    cohort = load_cohort(tmp_path)
    with pytest.raises(VolumeLoadError, match=r"s1/ct\.nii\.gz.*not gzip-compressed"):
        cohort.load_case("s1")


def test_repairs_are_kept_per_scan_and_reach_the_metadata_table(tmp_path, small_ct, mr_volume):
    """A reader's repair (NaN voxels replaced) is noted on the scan it concerns, for the Data page's table."""
    from fusion_core.case import scan_notes
    from fusion_core.viz.views import metadata_row

    holes = small_ct.array.copy()
    holes[0, 0, :2] = np.nan
    save_volume(small_ct.with_array(holes), tmp_path / "s1" / "ct.nrrd")
    save_volume(mr_volume, tmp_path / "s1" / "mr.nrrd")
    case = load_cohort(tmp_path).load_case("s1")
    assert any("2 NaN/Inf voxels replaced" in note for note in scan_notes(case, "CT"))
    assert all("NaN" not in note for note in scan_notes(case, "MR"))  # the MR had nothing to repair
    row = metadata_row(case.ct, scan_notes(case, "CT"))
    assert "2 NaN/Inf voxels replaced" in row["repairs and notes"]
    assert metadata_row(case.ct)["repairs and notes"] == "none"


def test_loose_scans_keep_their_notes_per_scan(small_ct, mr_volume):
    from fusion_core.case import case_from_volumes, scan_notes

    notes = {"a.nii": ["spacing 0 repaired to 1 mm"], "b.nii": []}
    case = case_from_volumes("upload", {"a.nii": small_ct, "b.nii": mr_volume}, notes=notes)
    assert scan_notes(case, "CT") == ["spacing 0 repaired to 1 mm"] and scan_notes(case, "MR") == []
    assert case.meta["load_notes"] == ["a.nii: spacing 0 repaired to 1 mm"]
