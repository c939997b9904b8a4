"""ui.models: the caveats a page shows beside a model's output."""

from fusion_core.case import Case
from fusion_core.inference.registry import ModelCard
from ui.models import caveats, describe

CARD = ModelCard(
    name="clf-x",
    task="classifier",
    inputs=("CT", "MR-T1", "MR-T2"),
    cohort={"spec": "classifier-train", "split": "train", "validation": {"spec": "classifier-train", "split": "val"}},
)


def test_no_caveat_on_the_held_out_demo_subjects():
    assert caveats(CARD, Case("phantom-000", meta={"cohort_spec": "demo"})) == []


def test_training_subjects_are_flagged():
    (note,) = caveats(CARD, Case("phantom-000", meta={"cohort_spec": "classifier-train"}))
    assert "trained on subjects" in note and "not a fair test" in note


def test_a_users_own_scan_is_a_demonstration_not_a_measurement():
    (note,) = caveats(CARD, Case("upload"))
    assert "demonstration, not a measurement" in note


def test_describe_names_task_and_inputs():
    assert describe(CARD) == "clf-x · lesion classifier · CT + MR-T1 + MR-T2"
