"""Every shipped checkpoint loads (safetensors + config), carries a complete card, and runs on a phantom."""

import json

import numpy as np
import pytest

from fusion_core.data.cohorts import list_cohort_specs
from fusion_core.data.phantom import make_subject
from fusion_core.evaluation import read_scores
from fusion_core.inference import ASSETS_DIR, classify, encode, impute, list_models, load_model, read_card
from fusion_core.training.train_all import SHIPPED

CARD_KEYS = {"name", "task", "inputs", "metrics", "command", "train_seconds", "config", "cohort", "seed"}


@pytest.fixture(scope="module")
def volumes():
    s = make_subject(11, size=32, label=1)
    return {"CT": s.ct, "MR-T1": s.mr_on_ct_grid("T1"), "MR-T2": s.mr_on_ct_grid("T2")}


def test_every_shipped_model_is_present():
    assert ASSETS_DIR.is_dir(), f"{ASSETS_DIR} is missing"
    assert set(list_models()) == set(SHIPPED)


def test_assets_small_enough():
    total = sum(p.stat().st_size for p in ASSETS_DIR.rglob("*") if p.is_file())
    assert 0 < total < 30 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_card_names_a_defined_cohort_spec_and_split(name):
    card = read_card(ASSETS_DIR / name)
    assert card.cohort["spec"] in list_cohort_specs() and card.cohort["split"] == "train"
    assert card.cohort["test"]["spec"] in list_cohort_specs()
    if card.task == "classifier":  # classifiers are tested on the app's demo subjects, never trained on them
        assert card.cohort["test"] == {"spec": "demo", "split": "test"} and "demo" not in card.trained_on


@pytest.mark.parametrize("name", [n for n in SHIPPED if n.startswith("clf-")])
def test_classifier_ships_scores_consistent_with_its_card(name):
    card = read_card(ASSETS_DIR / name)
    scores = read_scores(ASSETS_DIR / name)
    assert scores.full_subset == "+".join(card.inputs)
    specs = scores.frame.groupby("split")["spec"].unique().map(list).to_dict()
    assert specs["test"] == ["demo"] and specs.get("val", ["classifier-train"]) == ["classifier-train"]
    assert set(specs) <= {"test", "val"} and (scores.frame["split"] == "test").sum() == 100
    labels, probabilities = scores.scores("all")
    from fusion_core.evaluation import auc_score

    assert auc_score(labels, probabilities) == pytest.approx(card.metrics["test_auc"], abs=1e-9)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_runs(name, volumes):
    card = json.loads((ASSETS_DIR / name / "model_card.json").read_text())
    assert set(card) >= CARD_KEYS, CARD_KEYS - set(card)
    assert not (ASSETS_DIR / name / "state.pt").exists()
    model = load_model(name, device="cpu")
    if card["task"] == "classifier":
        assert card["strategy"] == model.config.strategy
        result = classify(model, {m: volumes[m] for m in card["inputs"]}, mc_samples=2)
        assert 0 <= result.probability <= 1 and np.isfinite(result.uncertainty)
    elif card["task"] == "vae":
        assert encode(model, {"MR": volumes["MR-T1"]}).shape[0] == volumes["CT"].shape[0]
        assert impute(model, {"MR": volumes["MR-T1"]}, "CT").same_grid(volumes["CT"])
    elif card["task"] == "translator":
        assert impute(model, {"MR": volumes["MR-T1"]}, "CT").shape == volumes["CT"].shape
    else:  # paired generators: each output from the inputs the card names
        for target in model.card.outputs:
            generated = impute(model, {m: volumes[m] for m in model.card.inputs}, target)
            assert generated.same_grid(volumes["CT"]), target


def test_unimodal_cards_name_their_one_input():
    for strategy in ("ct", "mr"):
        card = json.loads((ASSETS_DIR / f"clf-{strategy}" / "model_card.json").read_text())
        inputs = card["inputs"]
        assert inputs == ["CT"] if strategy == "ct" else all(m.startswith("MR-") for m in inputs)


@pytest.fixture(scope="module")
def complementary_trio():
    """A calcification hidden from MR, a subacute haemorrhage hidden from CT, and a healthy head."""
    common = {"lesion_radius_mm": (8.0, 10.0)}
    calcified = make_subject(501, label=1, lesion_type="calcified", conspicuity={"CT": 1.0, "MR": 0.1}, **common)
    subacute = make_subject(
        502, label=1, lesion_type="subacute-haemorrhage", conspicuity={"CT": 0.1, "MR": 1.0}, **common
    )
    healthy = make_subject(503, label=0)
    return [s.to_case().aligned() for s in (calcified, subacute, healthy)]


def test_shipped_classifiers_see_what_their_modality_shows(complementary_trio):
    calcified, subacute, healthy = complementary_trio

    def p(name, case):
        model = load_model(name, device="cpu")
        volumes = {"CT": case.ct, **case.mr_weightings}
        return classify(model, {m: volumes[m] for m in model.card.inputs}, mc_samples=1).probability

    assert p("clf-ct", calcified) > p("clf-ct", healthy)
    assert p("clf-mr", subacute) > p("clf-mr", healthy)
    fused = [p("clf-intermediate-concat", case) for case in (calcified, subacute, healthy)]
    assert min(fused[:2]) > 0.5 > fused[2], fused
