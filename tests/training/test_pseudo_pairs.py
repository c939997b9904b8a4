"""Pseudo-pairs: each MR-only person registered onto another person's CT, written as a cohort folder."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from fusion_core.io import load_cohort
from fusion_core.preprocess.resample import resample_to
from fusion_core.training.cohort_folder import folder_record, iter_folder_subjects
from fusion_core.training.loop import cohort_record, training_data
from fusion_core.training.pseudo_pairs import PseudoPairOptions, build_pseudo_pairs, main, pair_plan, register_pair
from fusion_core.training.slice_table import SliceDataConfig, build_slice_table

TINY = PseudoPairOptions(size=32, max_mr=1, min_head_overlap=0.0)  # one MR person per split: two registrations


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_pseudo_pairs(TINY, out=tmp_path_factory.mktemp("pseudo") / "pairs")


def test_plan_pairs_each_mr_person_with_another_persons_ct_of_its_split():
    options = PseudoPairOptions(cts_per_mr=2)
    spec = options.spec()
    plan = pair_plan(spec, options)
    assert plan == pair_plan(spec, options)  # seeded
    assert {split for *_, split in plan} == {"train", "val"}
    assert all(mr % 2 == 1 and ct % 2 == 0 for mr, ct, _ in plan)  # MR-only people onto CT-only people
    first_mr, first_ct, _ = plan[0]
    assert TINY.spec().subject(first_mr).ct is None and TINY.spec().subject(first_ct).mr is None  # no own CT exists
    per_mr = {}
    for mr, ct, _ in plan:
        per_mr.setdefault(mr, set()).add(ct)
    assert all(len(cts) == 2 for cts in per_mr.values())
    assert not {mr for mr, *_ in plan} & set(_test_members(spec))  # the spec's test people stay unseen


def _test_members(spec):
    from fusion_core.data.splits import split_indices

    return split_indices(spec, "test")


def test_a_paired_cohort_is_refused():
    with pytest.raises(ValueError, match="paired: pseudo-pairs are for unpaired cohorts"):
        PseudoPairOptions(cohort="demo").spec()


def test_folder_loads_with_the_mr_on_the_ct_grid_and_names_both_people(folder):
    cohort = load_cohort(folder)
    assert len(cohort) == 2
    rows = cohort.table.set_index("subject_id")
    for case in cohort:
        assert case.is_paired and set(case.mr_weightings) == {"MR-T1", "MR-T2"}
        assert all(mr.same_grid(case.ct) for mr in case.mr_weightings.values())
        row = rows.loc[case.subject_id]
        assert row["mr_subject"] != row["ct_subject"] and case.subject_id == f"{row.mr_subject}_on_{row.ct_subject}"
    assert sorted(rows["split"]) == ["train", "val"]


def test_only_the_deformation_changes_the_ct_and_the_mr_moves_into_its_pose():
    spec, (mr, ct, _) = TINY.spec(), pair_plan(TINY.spec(), TINY)[0]
    mr_person, ct_person = spec.subject(mr), spec.subject(ct)
    affine = dataclasses.replace(TINY, mode="affine")
    pseudo_ct, warped, result = register_pair(ct_person.ct, {"T1": mr_person.mr}, affine)
    assert pseudo_ct.same_grid(ct_person.ct) and warped["T1"].same_grid(ct_person.ct)
    head = ct_person.ct.array > -500
    assert np.abs(pseudo_ct.array - ct_person.ct.array)[head].mean() < 5  # no deformation: the CT as it was
    as_acquired = resample_to(mr_person.mr, ct_person.ct)  # scanner coordinates, no registration
    assert np.abs(warped["T1"].array - as_acquired.array).mean() > 1  # the MR moved
    deformed, _, _ = register_pair(ct_person.ct, {"T1": mr_person.mr}, TINY)
    assert np.abs(deformed.array - ct_person.ct.array)[head].mean() > 5  # the B-spline stage moved the CT
    assert np.isfinite(result.final_metric)


def test_training_reads_the_folder_as_unpaired_with_its_own_splits(folder, tmp_path):
    data = SliceDataConfig(cohort_dir=str(folder), image_size=32, cache_dir=str(tmp_path), mr_weightings=("T1", "T2"))
    table = build_slice_table(data)
    assert set(np.unique(table["split"])) == {0, 1}  # train and val, as cohort.csv says
    assert training_data(data) == "unpaired"
    assert training_data(SliceDataConfig(cohort="translator-train")) == "unpaired"
    assert training_data(SliceDataConfig(cohort="classifier-train")) == "paired"
    record = cohort_record(data)
    assert record["spec"] == "translator-train" and record["validation"] == {"spec": "translator-train", "split": "val"}
    assert record["provenance"]["training_data"] == "unpaired" and record["test"] == {"spec": "demo", "split": "test"}
    assert folder_record(folder)["provenance"]["method"].startswith("each MR registered to 1 CT(s)")


def test_a_pair_whose_heads_do_not_overlap_is_set_aside(folder, tmp_path):
    copy = tmp_path / "pairs"
    shutil.copytree(folder, copy)
    (copy / "cohort.csv").unlink()
    overlaps = load_cohort(folder).table.set_index("subject_id")["head_overlap"]
    worse, better = overlaps.idxmin(), overlaps.idxmax()
    strict = dataclasses.replace(TINY, min_head_overlap=float(overlaps.mean()))
    assert build_pseudo_pairs(strict, out=copy) == copy  # the registrations are reused from the folder
    assert load_cohort(copy).subject_ids == [better] and (copy / ".rejected" / worse / "ct.nii.gz").exists()
    rejected = json.loads((copy / "provenance.json").read_text())["rejected"]
    assert [row["subject_id"] for row in rejected] == [worse]
    assert 0 < rejected[0]["head_overlap"] < strict.min_head_overlap


def test_a_finished_folder_is_reused(folder, capsys):
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*.nii.gz")}
    assert main(["--out", str(folder), "--no-progress", "--max-mr", "1"]) == folder
    assert capsys.readouterr().out.strip() == str(folder)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.nii.gz")} == stamps
    assert json.loads((folder / "provenance.json").read_text())["cohort"] == "translator-train"
    assert [s.label for s in iter_folder_subjects(folder)] == list(load_cohort(folder).table["label"])
