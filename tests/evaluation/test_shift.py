"""Domain shift: the phantom's site model on one modality, normalisation, subject choice."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.sites import SITE_PRESETS
from fusion_core.evaluation import EvaluationError
from fusion_core.evaluation.shift import (
    Normalisation,
    ShiftSetting,
    balanced_indices,
    normalise_to_reference,
    shifted_site,
    shifted_subject,
)
from fusion_core.preprocess.masks import head_mask
from fusion_core.volume import Volume


def test_shift_changes_one_modality_of_the_site_only():
    site = SITE_PRESETS["B"]
    ct = shifted_site(site, ShiftSetting("CT", blur_mm=1.6, scale=0.8, noise=3.0))
    assert ct.ct_blur_mm == pytest.approx(np.hypot(1.2, 1.6))  # widths add in quadrature
    assert (ct.ct_hu_scale, ct.ct_noise_hu) == (pytest.approx(0.8), pytest.approx(27.0))
    assert dataclasses.replace(ct, ct_blur_mm=1.2, ct_hu_scale=1.0, ct_noise_hu=9.0) == site
    mr = shifted_site(site, ShiftSetting("MR", scale=1.5, noise=2.0))
    assert (mr.mr_scale, mr.mr_noise) == (pytest.approx(1.2), pytest.approx(0.06))
    assert (mr.ct_blur_mm, mr.ct_hu_scale, mr.ct_noise_hu) == (site.ct_blur_mm, site.ct_hu_scale, site.ct_noise_hu)
    assert shifted_site(site, ShiftSetting("MR")) == site


@pytest.mark.parametrize(
    ("options", "match"),
    [({"modality": "PET"}, "'CT' or 'MR'"), ({"scale": 0}, "scale > 0"), ({"normalisation": "n4"}, "zscore")],
)
def test_bad_settings_are_refused_with_the_allowed_values(options, match):
    with pytest.raises(EvaluationError, match=match):
        ShiftSetting(**options)


def test_zero_shift_is_the_same_person_and_scan():
    spec = get_cohort_spec("demo").replace(n=3)
    same, blurred = shifted_subject(spec, 1, ShiftSetting()), shifted_subject(spec, 1, ShiftSetting("MR", blur_mm=2))
    original = spec.subject(1)
    np.testing.assert_array_equal(same.ct.array, original.ct.array)
    np.testing.assert_array_equal(same.mr_t2.array, original.mr_t2.array)
    np.testing.assert_array_equal(blurred.ct.array, original.ct.array)  # CT untouched by an MR shift
    assert not np.array_equal(blurred.mr.array, original.mr.array)
    assert blurred.label == original.label and blurred.meta["lesion_type"] == original.meta["lesion_type"]
    with pytest.raises(EvaluationError, match=r"subjects 0\.\.2"):
        shifted_subject(spec, 3, ShiftSetting())


def _ct(array: np.ndarray) -> Volume:
    return Volume(array.astype(np.float32), spacing=(1.0, 1.0, 1.0), modality="CT")


def test_zscore_normalisation_undoes_a_gain_change():
    rng = np.random.default_rng(0)
    head = np.full((8, 16, 16), -1000.0)
    head[2:6, 4:12, 4:12] = rng.normal(40, 30, (4, 8, 8))
    reference, shifted = _ct(head), _ct(head * 0.7)
    restored = normalise_to_reference(shifted, reference, Normalisation.ZSCORE)
    inside = head_mask(reference)
    np.testing.assert_allclose(restored.array[inside].mean(), head[inside].mean(), atol=1e-2)
    np.testing.assert_allclose(restored.array[inside].std(), head[inside].std(), rtol=1e-4)
    assert normalise_to_reference(shifted, reference, "none") is shifted
    matched = normalise_to_reference(shifted, reference, "histogram")
    np.testing.assert_allclose(np.percentile(matched.array, [50, 90, 99]), np.percentile(head, [50, 90, 99]), atol=1.0)


def test_balanced_indices_take_half_with_a_lesion():
    spec = get_cohort_spec("demo")
    labels = {sid: i % 3 == 0 for i, sid in enumerate(spec.subject_ids())}
    labels = {k: int(v) for k, v in labels.items()}
    picked = balanced_indices(spec, labels, 10, seed=1)
    assert len(picked) == 10 and picked == sorted(set(picked))
    assert sum(labels[spec.subject_ids()[i]] for i in picked) == 5
    assert picked == balanced_indices(spec, labels, 10, seed=1) != balanced_indices(spec, labels, 10, seed=2)


def test_split_indices_are_the_stratified_split_of_the_built_subjects():
    import numpy as np

    from fusion_core.data.splits import SPLITS, member_labels, split_indices, split_members, split_subjects

    for spec in (get_cohort_spec("classifier-train").replace(n=6), get_cohort_spec("vae-train").replace(n=6)):
        built = [spec.subject(i) for i in range(spec.n)]
        labels = np.array([s.label for s in built])
        assert member_labels(spec).tolist() == labels.tolist()
        expected = np.flatnonzero(split_subjects(spec.n, spec.split_fractions, 0, labels=labels) == SPLITS.index("val"))
        assert split_indices(spec, "val") == expected.tolist()
        assert [s.subject_id for _, s in split_members(spec, "val")] == [built[i].subject_id for i in expected]
    assert split_indices(get_cohort_spec("demo").replace(n=5), "test") == [0, 1, 2, 3, 4]


def test_zero_shift_reproduces_the_shipped_score():
    from fusion_core.evaluation import read_scores
    from fusion_core.evaluation.shift import score_shift
    from fusion_core.inference import load_model
    from fusion_core.inference.registry import ASSETS_DIR

    if not (ASSETS_DIR / "clf-ct" / "scores.csv").is_file():
        pytest.skip("clf-ct ships no scores.csv")
    shipped = read_scores(ASSETS_DIR / "clf-ct").frame.set_index("subject_id")
    spec = get_cohort_spec("demo")
    model = {"clf-ct": load_model("clf-ct", device="cpu")}
    scored = score_shift(model, spec, [7], ShiftSetting())
    row = scored.rows("clf-ct").iloc[0]
    assert row["subject_id"] == "phantom-007" and row["label"] == shipped.loc["phantom-007", "label"]
    assert row["score"] == pytest.approx(shipped.loc["phantom-007", "score[CT]"], abs=1e-4)
    fast = score_shift(model, spec, [7], ShiftSetting(), only_candidates=True).rows("clf-ct").iloc[0]
    assert fast["score"] == pytest.approx(row["score"], abs=0.1)  # brain slices only: within MC-dropout noise


def test_a_model_blind_to_the_shifted_modality_is_not_rescored():
    from fusion_core.evaluation import read_scores
    from fusion_core.evaluation.shift import score_shift
    from fusion_core.evaluation.strategies import strategy_scores
    from fusion_core.inference import load_model
    from fusion_core.inference.registry import ASSETS_DIR

    if not (ASSETS_DIR / "clf-mr" / "scores.csv").is_file():
        pytest.skip("clf-mr ships no scores.csv")
    shipped = strategy_scores([read_scores(ASSETS_DIR / "clf-mr")])
    spec = get_cohort_spec("demo")
    models = {"clf-mr": load_model("clf-mr", device="cpu")}
    scored = score_shift(models, spec, [3, 7], ShiftSetting("CT", blur_mm=2.0), unshifted=shipped)
    expected = shipped.for_subjects(["phantom-003", "phantom-007"]).rows("clf-mr")
    assert scored.rows("clf-mr")["score"].tolist() == expected["score"].tolist()


def test_shift_aucs_report_auc_and_mean_probability_per_class():
    import pandas as pd

    from fusion_core.evaluation.scores_io import ScoresTable
    from fusion_core.evaluation.shift import shift_aucs
    from fusion_core.evaluation.strategies import strategy_scores

    frame = pd.DataFrame(
        {
            "subject_id": ["a", "b", "c", "d"],
            "label": [0, 0, 1, 1],
            "lesion_type": ["none", "none", "calcified", "oedema"],
            "site": "A",
            "spec": "demo",
            "split": "test",
            "score[CT]": [0.1, 0.5, 0.4, 0.9],
        }
    )
    (out,) = shift_aucs(strategy_scores([ScoresTable(frame, name="clf-ct")]), n_boot=50)
    assert out.strategy == "clf-ct" and out.auc.auc == pytest.approx(0.75) and out.auc.n_pos + out.auc.n_neg == 4
    assert out.mean_p_lesion == pytest.approx(0.65) and out.mean_p_no_lesion == pytest.approx(0.3)
