"""Every shipped checkpoint loads (safetensors + config), carries a complete card, and runs on a phantom."""

import json

import numpy as np
import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.inference import ASSETS_DIR, classify, encode, impute, list_models, load_model

CARD_KEYS = {"name", "task", "inputs", "metrics", "command", "train_seconds", "config", "cohort", "seed"}


@pytest.fixture(scope="module")
def volumes():
    s = make_subject(11, size=32, label=1)
    return {"CT": s.ct, "MR": s.mr_on_ct_grid()}


def test_assets_small_enough():
    total = sum(p.stat().st_size for p in ASSETS_DIR.rglob("*") if p.is_file()) if ASSETS_DIR.is_dir() else 0
    assert total < 30 * 2**20


@pytest.mark.parametrize("name", list_models())
def test_shipped_model_runs(name, volumes):
    card = json.loads((ASSETS_DIR / name / "model_card.json").read_text())
    assert set(card) >= CARD_KEYS, CARD_KEYS - set(card)
    assert not (ASSETS_DIR / name / "state.pt").exists()
    model = load_model(name, device="cpu")
    if card["task"] == "classifier":
        assert card["strategy"] == model.config.strategy
        inputs = (
            {card["strategy"].upper(): volumes[card["strategy"].upper()]}
            if card["strategy"] in ("ct", "mr")
            else volumes
        )
        result = classify(model, inputs, mc_samples=2)
        assert 0 <= result.probability <= 1 and np.isfinite(result.uncertainty)
    elif card["task"] == "vae":
        assert encode(model, {"MR": volumes["MR"]}).shape[0] == volumes["MR"].shape[0]
        assert impute(model, {"MR": volumes["MR"]}, "CT").same_grid(volumes["CT"])
    else:
        assert impute(model, {"MR": volumes["MR"]}, "CT").shape == volumes["CT"].shape


def test_unimodal_cards_name_their_one_input():
    for strategy in ("ct", "mr"):
        card = json.loads((ASSETS_DIR / f"clf-{strategy}" / "model_card.json").read_text())
        assert card["inputs"] == [strategy.upper()]


@pytest.fixture(scope="module")
def complementary_trio():
    """A calcification hidden from MR, a subacute haemorrhage hidden from CT, and a healthy head."""
    common = {"lesion_radius_mm": (8.0, 10.0)}
    calcified = make_subject(501, label=1, lesion_type="calcified", conspicuity={"CT": 1.0, "MR": 0.1}, **common)
    subacute = make_subject(
        502, label=1, lesion_type="subacute-haemorrhage", conspicuity={"CT": 0.1, "MR": 1.0}, **common
    )
    healthy = make_subject(503, label=0)
    return [{"CT": s.ct, "MR": s.mr_on_ct_grid()} for s in (calcified, subacute, healthy)]


def test_shipped_classifiers_see_what_their_modality_shows(complementary_trio):
    calcified, subacute, healthy = complementary_trio

    def p(name, vols, only=None):
        model = load_model(name, device="cpu")
        return classify(model, {only: vols[only]} if only else vols, mc_samples=1).probability

    assert p("clf-ct", calcified, "CT") > p("clf-ct", healthy, "CT")
    assert p("clf-mr", subacute, "MR") > p("clf-mr", healthy, "MR")
    fused = [p("clf-intermediate-concat", v) for v in (calcified, subacute, healthy)]
    assert min(fused[:2]) > 0.5 > fused[2], fused
