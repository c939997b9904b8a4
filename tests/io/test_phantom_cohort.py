"""A phantom cohort written by fusion_core.data.export comes back through load_cohort intact."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.io import load_cohort

export = pytest.importorskip("fusion_core.data.export")
phantom = pytest.importorskip("fusion_core.data.phantom")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    subjects = phantom.make_cohort(2, seed=0, size=32)
    root = tmp_path_factory.mktemp("phantom")
    export.write_cohort(subjects, root, progress=False)
    return subjects, root


def test_paired_phantom_cohort_round_trips(written):
    subjects, root = written
    cohort = load_cohort(root)
    assert cohort.subject_ids == [s.subject_id for s in subjects]
    assert cohort.table["label"].tolist() == [s.label for s in subjects]
    for subject in subjects:
        case = cohort.load_case(subject.subject_id)
        assert case.ct.same_grid(subject.ct, atol=1e-4) and case.mr.same_grid(subject.mr, atol=1e-4)
        np.testing.assert_allclose(case.ct.array, subject.ct.array, atol=1e-3)
        assert case.ct.modality == "CT" and case.mr.modality == "MR-T1"
        assert case.inputs == ("CT", "MR-T1", "MR-T2")
        np.testing.assert_allclose(case.mr_weightings["MR-T2"].array, subject.mr_t2.array, atol=1e-3)
        assert set(case.masks) == set(subject.masks)
        assert case.meta["site"] == subject.meta["site"]
        point = case.ct.center_mm
        np.testing.assert_allclose(
            case.true_transform.TransformPoint(point), subject.true_transform.TransformPoint(point), atol=1e-6
        )


def test_unpaired_phantom_cohort_uses_the_manifest(tmp_path):
    subjects = phantom.make_cohort(2, seed=1, paired=False, size=32)
    export.write_cohort(subjects, tmp_path, progress=False)
    cohort = load_cohort(tmp_path)
    assert cohort.source == "manifest"
    table = cohort.table
    assert (table["has_ct"] != table["has_mr"]).all()
    assert cohort.load_case(cohort.subject_ids[0]).label in (0, 1)
