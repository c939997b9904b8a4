"""fusion_core.report: a self-contained HTML case report built from the core, and its CLI."""

from __future__ import annotations

import dataclasses
import re

import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.io import save_volume
from fusion_core.report import build_case_report, render_html
from fusion_core.report.__main__ import main

FAST_REGISTRATION = {"levels": (2, 1), "smoothing": (1.0, 0.0), "iterations": 60, "multi_start_deg": 0.0}


@pytest.fixture(scope="module")
def phantom_case():
    case = make_subject(3, size=64).to_case()
    case.meta["cohort_spec"] = "demo"
    return case


@pytest.fixture(scope="module")
def full_report(phantom_case):
    return build_case_report(
        phantom_case, models=("synth-unet-t1", "clf-early"), registration_options=FAST_REGISTRATION
    )


def _self_contained(text: str) -> None:
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"""(src|href)=["'](?!data:)""", text)
    assert "http://" not in text and "https://" not in text


@pytest.mark.slow
def test_report_holds_every_section_and_is_self_contained(full_report):
    text = render_html(full_report)
    _self_contained(text)
    for heading in ("Scans", "Registration", "Normalisation", "Synthetic scans", "Lesion classifiers"):
        assert f"<h2>{heading}" in text
    reg = full_report.registration
    assert reg.mi_after > reg.mi_before and reg.tre_after_mm < reg.tre_before_mm
    assert reg.initialisation and any(name.startswith("rotation") for name, _ in reg.transform)
    (synth,) = full_report.syntheses
    assert synth.metrics and len(synth.figures) == 2  # generated + error map (deterministic: no spread)
    assert "deterministic" in " ".join(synth.remarks)
    (clf,) = full_report.classifiers
    assert 0 <= clf.probability <= 1 and clf.attribution is not None
    assert "expected calibration error" in clf.calibration
    assert text.count("data:image/png;base64,") >= 6


@pytest.mark.slow
def test_every_model_result_names_its_training_cohort(full_report):
    for note in [s.note for s in full_report.syntheses] + [c.note for c in full_report.classifiers]:
        assert "'classifier-train' cohort" in note.cohort and note.card_version
        assert note.warnings == ()  # a demo-cohort phantom is the kind of scan the models were tested on


def test_a_scan_from_elsewhere_gets_the_not_validated_warning(phantom_case):
    outside = dataclasses.replace(phantom_case, meta={}, mr=None, mr_weightings={})
    report = build_case_report(outside, models=("clf-ct",))
    text = render_html(report)
    assert "not validated on this kind of scan" in text
    assert "<h2>Registration" not in text and "nothing to register" in text


def test_missing_inputs_are_omitted_with_a_note(phantom_case):
    mr_only = dataclasses.replace(phantom_case, ct=None, masks={})
    report = build_case_report(mr_only)
    assert report.registration is None and report.syntheses == [] and report.classifiers == []
    reasons = dict(report.omitted)
    assert "only one modality" in reasons["Registration"] and "no model" in reasons["Models"]
    assert render_html(report) == render_html(report)


def test_cli_writes_a_report_for_a_subject_folder(tmp_path, phantom_case, capsys):
    subject = tmp_path / "cohort" / "sub-01"
    subject.mkdir(parents=True)
    save_volume(phantom_case.ct, subject / "ct.nii.gz")
    save_volume(phantom_case.mr, subject / "mr.nii.gz")
    out = tmp_path / "report.html"
    assert main(["--case", str(subject), "--out", str(out), "--no-register", "--no-progress"]) == 0
    text = out.read_text()
    _self_contained(text)
    assert "sub-01" in text and "not run for this report" in text
    assert main(["--case", "demo:phantom-999", "--out", str(out), "--no-progress"]) == 2
    assert "no subject 'phantom-999'" in capsys.readouterr().err
