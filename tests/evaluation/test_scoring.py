"""Top-k subject scores: the single-subject and the table form agree with a direct computation."""

import numpy as np
import pytest

from fusion_core.evaluation import TOP_K, EvaluationError, subject_score, subject_scores


def test_subject_score_by_hand():
    p = np.array([0.1, 0.9, 0.5, 0.7])
    assert TOP_K == 3
    assert subject_score(p) == pytest.approx((0.9 + 0.7 + 0.5) / 3)
    assert subject_score(p, top_k=1) == 0.9
    assert subject_score(p, candidates=np.array([0, 2])) == pytest.approx(0.3)  # fewer than k: all of them
    assert subject_score(p, candidates=np.array([True, False, False, True])) == pytest.approx(0.4)
    assert subject_score(p, candidates=np.array([], int)) == pytest.approx(0.7)  # no candidate: every slice


def test_subject_score_refuses_empty_and_bad_k():
    with pytest.raises(EvaluationError, match="at least one slice"):
        subject_score([])
    with pytest.raises(EvaluationError, match="top_k"):
        subject_score([0.5], top_k=0)


def test_subject_scores_table_matches_per_subject_loop(rng):
    subjects = rng.choice(np.array(["s07", "s01", "s12", "s03", "s05"]), 200)
    probs = rng.random(200)
    mask = rng.random(200) < 0.5
    mask[subjects == "s05"] = False  # a subject without candidates falls back to all its slices
    ids, scores = subject_scores(probs, subjects, candidate_mask=mask)
    assert list(ids) == ["s01", "s03", "s05", "s07", "s12"]
    expected = [subject_score(probs[subjects == s], candidates=mask[subjects == s]) for s in ids]
    np.testing.assert_allclose(scores, expected)
    order = rng.permutation(200)  # row order does not matter
    np.testing.assert_allclose(subject_scores(probs[order], subjects[order], candidate_mask=mask[order])[1], scores)


def test_subject_scores_by_hand_with_short_subject():
    ids, scores = subject_scores([0.2, 0.8, 0.4, 0.6, 0.9], [2, 1, 1, 2, 1], top_k=2)
    assert list(ids) == [1, 2]
    np.testing.assert_allclose(scores, [(0.9 + 0.8) / 2, (0.6 + 0.2) / 2])


def test_subject_scores_refuses_mismatched_lengths():
    with pytest.raises(EvaluationError, match="differ in length"):
        subject_scores([0.1, 0.2], [1])
