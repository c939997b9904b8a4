import pytest

from fusion_core.errors import FusionError
from fusion_core.teaching.bayes import fuse_evidence, odds_to_probability, probability_to_odds


def test_the_textbook_example():
    result = fuse_evidence(0.5, [2.0, 5.0])
    assert result.odds.tolist() == [1.0, 2.0, 10.0]
    assert result.probabilities.tolist() == pytest.approx([0.5, 2 / 3, 10 / 11])
    assert round(result.probabilities[1], 2) == 0.67 and round(result.posterior, 2) == 0.91


def test_order_of_evidence_does_not_matter():
    assert fuse_evidence(0.1, [3.0, 0.5]).posterior == pytest.approx(fuse_evidence(0.1, [0.5, 3.0]).posterior)


def test_ratio_below_one_lowers_the_probability():
    assert fuse_evidence(0.3, [0.25]).posterior == pytest.approx(odds_to_probability(0.3 / 0.7 * 0.25))
    assert fuse_evidence(0.3, [0.25]).posterior < 0.3


def test_odds_round_trip():
    assert odds_to_probability(probability_to_odds(0.2)) == pytest.approx(0.2)


@pytest.mark.parametrize(("prior", "ratios", "match"), [(0.0, [2.0], "probability"), (0.5, [0.0], "positive")])
def test_bad_inputs_are_errors(prior, ratios, match):
    with pytest.raises(FusionError, match=match):
        fuse_evidence(prior, ratios)
