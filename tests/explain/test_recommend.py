"""fusion_core.explain.recommended_attribution: the rule on a small synthetic table, and the shipped answer."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.errors import FusionError
from fusion_core.explain import PairAgreement, attribution_map, recommended_attribution, recommended_pair
from fusion_core.explain.recommend import AGREEMENT_FILE, DEFAULT_PAIR, pick_recommended, read_agreement
from fusion_core.inference import list_models, load_model


def row(model: str, method: str, pointing: float, *, random: float = 0.02, depth=None, lesion="all", in_lesion=0.2):
    return PairAgreement(model, method, depth, lesion, 30, pointing, random, in_lesion, random / 2)


def write(tmp_path, rows: list[PairAgreement]):
    path = tmp_path / "agreement.json"
    path.write_text(json.dumps({"pairs": [dataclasses.asdict(r) for r in rows]}))
    return path


def test_the_rule_takes_the_best_pointing_that_beats_random_by_the_margin():
    rows = [
        row("a", "gradcam", 0.7, random=0.5),  # best pointing, but only 0.2 above random
        row("b", "integrated_gradients", 0.65),
        row("c", "gradcam", 0.65, in_lesion=0.4),  # same pointing, more mass in the lesion: wins the tie
        row("d", "gradcam", 0.95, depth=1),  # a finer Grad-CAM depth: the page cannot open on it
        row("e", "lesion-map head", 0.9),  # not an attribution method
        row("f", "integrated_gradients", 0.99, lesion="oedema"),  # one lesion type only
    ]
    assert pick_recommended(rows).model == "c"
    assert pick_recommended(rows[:1]).model == "a"  # nothing clears the margin: the best pointing anyway
    assert pick_recommended(rows[3:5]) is None


def test_the_table_is_read_and_only_shipped_classifiers_are_recommended(tmp_path):
    shipped = list_models(task="classifier")
    path = write(tmp_path, [row("not-shipped", "gradcam", 0.99), row(shipped[-1], "gradcam", 0.8)])
    assert recommended_attribution(path) == (shipped[-1], "gradcam")
    assert read_agreement(tmp_path / "missing.json") == []
    assert recommended_attribution(tmp_path / "missing.json") == DEFAULT_PAIR
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(FusionError, match="not an agreement table"):
        read_agreement(tmp_path / "bad.json")


def test_the_shipped_recommendation_is_a_shipped_classifier_and_a_method_of_its_maps():
    model, method = recommended_attribution()
    assert model in list_models(task="classifier")
    subject = make_subject(3, size=48, label=1)
    volumes = {"CT": subject.ct, "MR-T1": subject.mr_on_ct_grid("T1"), "MR-T2": subject.mr_on_ct_grid("T2")}
    k = int(subject.masks["lesion"].array.sum((1, 2)).argmax())
    maps = attribution_map(load_model(model, device="cpu"), volumes, k, method=method)
    assert maps and all(a.shape == subject.ct.shape[1:] and np.isfinite(a).all() for a in maps.values())
    assert any(np.abs(a).max() > 0 for a in maps.values())


def test_the_shipped_table_covers_every_shipped_classifier():
    pairs = read_agreement(AGREEMENT_FILE)
    assert {p.model for p in pairs} >= set(list_models(task="classifier"))
    assert recommended_attribution() == (recommended_pair().model, recommended_pair().method)
