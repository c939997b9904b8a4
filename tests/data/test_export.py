from __future__ import annotations

import csv

import numpy as np
import SimpleITK as sitk

from fusion_core.data.acquisition import euler_transform
from fusion_core.data.export import cli as main
from fusion_core.data.phantom import make_cohort
from fusion_core.io import load_cohort, load_volume


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_writes_a_paired_cohort_that_loads_back(tmp_path):
    assert main(["--out", str(tmp_path), "--n", "2", "--seed", "3", "--size", "24"]) == 0
    subjects = make_cohort(2, seed=3, size=24)
    rows = _rows(tmp_path / "cohort.csv")
    assert [r["subject_id"] for r in rows] == ["phantom-000", "phantom-001"]
    for subject, row in zip(subjects, rows, strict=True):
        folder = tmp_path / subject.subject_id
        ct = load_volume(folder / "ct.nii.gz")
        mr = load_volume(folder / "mr.nii.gz")
        mask = load_volume(folder / "mask.nii.gz")
        assert ct.same_grid(subject.ct) and mr.same_grid(subject.mr) and mask.same_grid(subject.ct)
        np.testing.assert_allclose(ct.array, np.round(subject.ct.array), atol=1.0)
        np.testing.assert_allclose(mr.array, subject.mr.array, rtol=1e-5, atol=1e-3)
        assert int(row["label"]) == subject.label and row["site"] == subject.meta["site"]
        # The CSV parameters rebuild the true transform.
        rebuilt = euler_transform(
            [float(row[f"rotation_deg_{a}"]) for a in "xyz"],
            [float(row[f"translation_mm_{a}"]) for a in "xyz"],
            [float(row[f"center_mm_{a}"]) for a in "xyz"],
        )
        point = (10.0, -20.0, 30.0)
        np.testing.assert_allclose(
            rebuilt.TransformPoint(point), subject.true_transform.TransformPoint(point), atol=1e-4
        )
        stored = sitk.ReadTransform(str(folder / "true_transform.tfm"))
        np.testing.assert_allclose(
            stored.TransformPoint(point), subject.true_transform.TransformPoint(point), atol=1e-6
        )
    cohort = load_cohort(tmp_path)
    case = cohort.load_case("phantom-001")
    assert case.is_paired and case.label == subjects[1].label and case.true_transform is not None
    assert {"lesion", "brain", "bone"} <= set(case.masks) and len(case.masks) == 4


def test_cli_unpaired_writes_a_manifest(tmp_path):
    assert main(["--out", str(tmp_path), "--n", "4", "--size", "16", "--unpaired"]) == 0
    rows = _rows(tmp_path / "manifest.csv")
    assert [(r["subject_id"], r["modality"]) for r in rows] == [
        ("phantom-000", "CT"),
        ("phantom-001", "MR"),
        ("phantom-002", "CT"),
        ("phantom-003", "MR"),
    ]
    for row in rows:
        assert load_volume(tmp_path / row["path"]).shape[1:] == (16, 16)
    cohort = load_cohort(tmp_path)
    assert len(cohort) == 4 and not any(case.is_paired for case in cohort)
