"""The batch pipeline: every step on a 4-subject cohort, resume after a kill, a corrupt subject, Dask."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion_core.io import load_volume
from fusion_core.pipeline import (
    read_pipeline_latents,
    read_pipeline_results,
    run_pipeline,
)
from fusion_core.pipeline.runner import plan_jobs
from fusion_core.pipeline.subject import process_subject
from tests.pipeline.conftest import light_config

ROOT = Path(__file__).resolve().parents[2]
ALL_STEPS = ("register", "normalise", "synthesise", "classify", "evaluate", "encode")


@pytest.fixture(scope="module")
def full_run(phantom_cohort, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "out"
    return run_pipeline(phantom_cohort, out, light_config(ALL_STEPS), workers=0, progress=False)


def _metrics(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if not c.startswith(("seconds_", "registration_seconds"))]
    return frame[keep].set_index("subject_id").sort_index()


def test_every_step_writes_its_outputs(full_run, phantom_cohort):
    assert full_run.count("done") == 4 and full_run.count("failed") == 0
    for subject in full_run.results:
        folder = full_run.out / subject.subject_id
        for name in ("ct.nii.gz", "mr.nii.gz", "mr_t2.nii.gz", "registration.tfm", "normalisation.json",
                     "generated/vae-poe_CT.nii.gz", "generated/vae-poe_MR.nii.gz", "latents/vae-poe.npy",
                     "scores.json", "manifest.json"):  # fmt: skip
            assert (folder / name).is_file(), name
        assert json.loads((folder / "normalisation.json").read_text())["MR-T1"]["method"] == "zscore"
    results = read_pipeline_results(full_run.out)
    table = results.table
    assert list(table["subject_id"]) == [f"phantom-{i:03d}" for i in range(4)]
    for column in ("tre_median_mm", "mi_after", "clf-early.score", "vae-poe.CT.mae", "vae-poe.CT.bone_dice",
                   "vae-poe.CT.mae_bone", "vae-poe.MR.ssim"):  # fmt: skip
        assert table[column].notna().all(), column
    assert (table["tre_median_mm"] < table["tre_before_median_mm"]).all()  # registration helped
    assert (full_run.out / "cohort_table.parquet").is_file()
    assert results.summary["n_done"] == 4 and "clf-early.score" in results.summary["metrics"]
    from fusion_core.evaluation import scores_dirs
    from fusion_core.evaluation.strategies import load_strategy_scores

    scores = load_strategy_scores(scores_dirs(results.scores_root))  # what the Fusion Performance page reads
    assert list(scores.strategies) == ["clf-early"] and len(scores.rows("clf-early")) == 4


def test_table_matches_single_subject_calls(full_run, phantom_cohort, tmp_path):
    from fusion_core.inference import classify, load_model
    from fusion_core.io import load_cohort

    config = light_config(ALL_STEPS)
    job = plan_jobs(load_cohort(phantom_cohort), tmp_path, config)[2]
    single = process_subject(job)
    table = _metrics(read_pipeline_results(full_run.out).table)
    row = table.loc[job.subject_id]
    for key, value in single.row.items():
        if key in row.index and isinstance(value, float) and "seconds" not in key:
            assert row[key] == pytest.approx(value, rel=1e-6, nan_ok=True), key
        elif key in row.index and "seconds" not in key:
            assert str(row[key]) == str(value), key
    # the registered output folder is a cohort: classifying its files gives the table's score
    case = load_cohort(full_run.out).load_case(job.subject_id).aligned()
    volumes = {"CT": case.ct, **case.mr_weightings}
    score = classify(load_model("clf-early"), volumes, mc_samples=1, seed=0).probability
    assert row["clf-early.score"] == pytest.approx(score, abs=1e-5)


def test_latents_reader_gives_a_latent_table(full_run):
    latents = read_pipeline_latents(full_run.out, "vae-poe")
    assert latents.latents.shape[0] == len(latents.meta)
    assert set(latents.meta["subject_id"]) == {f"phantom-{i:03d}" for i in range(4)}
    assert set(latents.meta.columns) >= {"subject_id", "slice", "label", "lesion_type", "site", "slice_has_lesion",
                                         "n_slices", "scans"}  # fmt: skip
    assert set(latents.meta["scans"]) == {"CT + MR"}


def test_second_run_skips_current_subjects_and_redoes_changed_settings(phantom_cohort, tmp_path):
    out = tmp_path / "out"
    light = light_config()
    run_pipeline(phantom_cohort, out, light, workers=0, progress=False)
    again = run_pipeline(phantom_cohort, out, light, workers=0, progress=False)
    assert again.count("skipped") == 4
    changed = run_pipeline(phantom_cohort, out, light_config(mr_normalisation="percentile_clip"), workers=0,
                           progress=False)  # fmt: skip
    assert changed.count("done") == 4


def _cli(cohort: Path, out: Path, *extra: str) -> list[str]:
    args = ["--cohort", str(cohort), "--out", str(out), "--steps", "register,normalise", "--workers", "0"]
    return [sys.executable, "-m", "fusion_core.pipeline", *args, "--no-progress",
            "--registration", json.dumps(light_config().registration), *extra]  # fmt: skip


def test_resume_after_a_kill_does_no_subject_twice(phantom_cohort, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(_cli(phantom_cohort, out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = {p.parent.name: json.loads(p.read_text())["finished_at"] for p in out.glob("*/manifest.json")}
    assert 1 <= len(finished) < 4, "the run should have been killed midway"
    assert not (out / "cohort_table.csv").exists()
    for path in out.rglob("*.nii.gz"):  # a file under its final name is complete (temporaries aside)
        if not path.name.startswith(".tmp-"):
            load_volume(path)
    subprocess.run(_cli(phantom_cohort, out), cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    for subject, stamp in finished.items():  # not redone
        assert json.loads((out / subject / "manifest.json").read_text())["finished_at"] == stamp
    assert not list(out.rglob(".tmp-*")), "a temporary file survived"
    table = read_pipeline_results(out).table
    assert sorted(table["status"]) == ["done"] * (4 - len(finished)) + ["skipped"] * len(finished)
    log = (out / "pipeline.log").read_text()
    assert f"{len(finished)} current, {4 - len(finished)} to process" in log


def test_a_corrupt_subject_is_logged_and_skipped(phantom_cohort, tmp_path):
    cohort = tmp_path / "cohort"
    shutil.copytree(phantom_cohort, cohort)
    (cohort / "phantom-001" / "ct.nii.gz").write_bytes(b"not a nifti file")
    run = run_pipeline(cohort, tmp_path / "out", light_config(), workers=0, progress=False)
    assert run.count("done") == 3 and run.count("failed") == 1
    results = read_pipeline_results(tmp_path / "out")
    assert "VolumeLoadError" in results.failures["phantom-001"]
    assert "phantom-001 failed" in (tmp_path / "out" / "pipeline.log").read_text()
    failed = results.table.set_index("subject_id").loc["phantom-001"]
    assert failed["status"] == "failed" and "ct.nii.gz" in failed["error"]
    assert not (tmp_path / "out" / "phantom-001" / "manifest.json").exists()


def test_dask_local_cluster_gives_the_loop_results(phantom_cohort, tmp_path):
    from distributed import LocalCluster

    config = light_config(("register", "normalise", "classify"))
    loop = run_pipeline(phantom_cohort, tmp_path / "loop", config, workers=0, progress=False)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster:  # --scheduler ADDR: the pipeline connects its own client to the cluster's scheduler
        run = run_pipeline(
            phantom_cohort, tmp_path / "dask", config, scheduler=cluster.scheduler_address, progress=False
        )
    assert run.executor == "dask" and run.workers == 2 and run.count("done") == 4
    dask_table = _metrics(read_pipeline_results(run.out).table)
    loop_table = _metrics(read_pipeline_results(loop.out).table)
    pd.testing.assert_frame_equal(dask_table, loop_table, check_exact=False, rtol=1e-6)
    assert np.isfinite(dask_table["clf-early.score"]).all()


def test_process_pool_gives_the_loop_results(phantom_cohort, tmp_path):
    config = light_config()
    loop = run_pipeline(phantom_cohort, tmp_path / "loop", config, workers=0, progress=False)
    pool = run_pipeline(phantom_cohort, tmp_path / "pool", config, workers=2, progress=False)
    assert pool.executor == "processes" and pool.count("done") == 4
    assert len({r.worker for r in pool.results}) <= 2
    pd.testing.assert_frame_equal(
        _metrics(read_pipeline_results(pool.out).table), _metrics(read_pipeline_results(loop.out).table)
    )


@pytest.fixture(scope="module")
def unpaired_run(phantom_cohort, tmp_path_factory):
    """The cohort with subject 1's CT and subject 2's MR removed, through every step."""
    root = tmp_path_factory.mktemp("unpaired") / "cohort"
    shutil.copytree(phantom_cohort, root)
    (root / "phantom-001" / "ct.nii.gz").unlink()
    for scan in (root / "phantom-002").glob("mr*.nii.gz"):
        scan.unlink()
    config = light_config(ALL_STEPS, classifiers=("clf-early", "clf-poe"))
    return run_pipeline(root, tmp_path_factory.mktemp("unpaired-out") / "out", config, workers=0, progress=False)


def test_unpaired_subjects_run_what_one_scan_allows(unpaired_run):
    assert unpaired_run.count("failed") == 0, [r.error for r in unpaired_run.results]
    table = read_pipeline_results(unpaired_run.out).table.set_index("subject_id")
    mr_only, ct_only, paired = table.loc["phantom-001"], table.loc["phantom-002"], table.loc["phantom-000"]
    assert paired["steps_run"] == ",".join(ALL_STEPS) and paired["steps_skipped"] == ""
    assert mr_only["steps_run"] == "normalise,synthesise,classify,encode"
    assert "register: MR only: no CT to register it with" in mr_only["steps_skipped"]
    assert "evaluate: MR only" in mr_only["steps_skipped"]
    assert "classify clf-early: MR only" in mr_only["steps_skipped"]  # early fusion would see a blank CT
    assert np.isfinite(mr_only["clf-poe.score"]) and pd.isna(mr_only["clf-early.score"])  # PoE takes one modality
    assert "register: CT only" in ct_only["steps_skipped"]
    folder = unpaired_run.out / "phantom-001"
    assert (folder / "generated" / "vae-poe_CT.nii.gz").is_file()  # a synthetic CT from the MR alone
    assert not (folder / "generated" / "vae-poe_MR.nii.gz").exists() and not (folder / "ct.nii.gz").exists()
    assert (folder / "latents" / "vae-poe.npy").is_file()
    assert (unpaired_run.out / "phantom-002" / "generated" / "vae-poe_MR.nii.gz").is_file()
    assert 0.5 < paired["head_coverage"] <= 1.0 and pd.isna(mr_only["head_coverage"])
    scans = read_pipeline_latents(unpaired_run.out, "vae-poe").meta.groupby("subject_id")["scans"].first()
    assert scans["phantom-001"] == "MR only" and scans["phantom-002"] == "CT only"  # the Latent Space page's table


def test_repairs_reach_the_cohort_table(phantom_cohort, tmp_path):
    """A reader's repair of an input file is in the subject's row, so a batch user sees it."""
    from fusion_core.io import save_volume

    root = tmp_path / "cohort"
    shutil.copytree(phantom_cohort / "phantom-000", root / "phantom-000")
    ct = load_volume(root / "phantom-000" / "ct.nii.gz")
    holes = ct.array.copy()
    holes[0, 0, :4] = np.nan
    save_volume(ct.with_array(holes), root / "phantom-000" / "ct.nii.gz")
    run = run_pipeline(root, tmp_path / "out", light_config(("normalise",)), workers=0, progress=False)
    row = read_pipeline_results(run.out).table.iloc[0]
    assert "ct.nii.gz: 4 NaN/Inf voxels replaced" in row["load_notes"]
