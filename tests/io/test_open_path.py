"""open_path: cohort folders, single scans and DICOM series folders behind one call."""

from __future__ import annotations

import pytest

from fusion_core.case import Case
from fusion_core.io import Cohort, CohortError, open_path, save_volume


def test_cohort_folder_opens_as_cohort(tmp_path, small_ct):
    (tmp_path / "s1").mkdir()
    save_volume(small_ct, tmp_path / "s1" / "ct.nii.gz")
    assert isinstance(open_path(tmp_path), Cohort)


def test_single_file_opens_as_case(tmp_path, small_ct):
    save_volume(small_ct, tmp_path / "head.mha")
    case = open_path(tmp_path / "head.mha")
    assert isinstance(case, Case) and case.ct is not None and case.mr is None
    assert case.subject_id == "head.mha"


def test_dicom_series_folder_opens_as_case(tmp_path, small_ct):
    from tests.io.dicom_factory import write_series

    folder = tmp_path / "series"
    write_series(folder, small_ct.array)
    case = open_path(folder)
    assert isinstance(case, Case) and case.ct is not None


def test_folder_that_is_neither_explains_both(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CohortError, match=r"neither a cohort .*no subjects found.* nor a readable scan"):
        open_path(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(CohortError, match="no such file or folder"):
        open_path(tmp_path / "absent")
