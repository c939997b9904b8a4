import numpy as np
import pytest

from fusion_core.data.phantom import make_subject
from fusion_core.preprocess.brain import brain_slices, intracranial_area


@pytest.fixture(scope="module")
def subject():
    return make_subject(1, size=48, label=0)


def true_brain_slices(subject, fraction):
    brain = subject.masks["brain"].array > 0.5
    area = brain.reshape(brain.shape[0], -1).sum(1)
    return set(np.flatnonzero(area >= fraction * area.max()))


def test_ct_estimate_matches_the_brain_mask_rule(subject):
    truth = true_brain_slices(subject, 0.5)
    est = set(brain_slices(subject.ct, 0.5))
    assert len(truth - est) <= 0.1 * len(truth)  # hardly a brain slice lost
    assert len(est - truth) <= 0.15 * len(truth)  # few skull-base slices gained
    assert min(est) > 0 and max(est) < subject.ct.shape[0] - 1  # neck and vertex are out


def test_mr_estimate_keeps_every_brain_slice_and_drops_the_vertex(subject):
    mr = subject.mr_on_ct_grid()
    truth = true_brain_slices(subject, 0.5)
    est = set(brain_slices(mr, 0.5))
    assert truth <= est
    assert max(est) < mr.shape[0] - 1


def test_area_is_in_mm2_and_zero_fraction_keeps_everything(subject):
    area = intracranial_area(subject.ct)
    brain = subject.masks["brain"].array > 0.5
    true_max = brain.reshape(brain.shape[0], -1).sum(1).max() * subject.ct.spacing[0] * subject.ct.spacing[1]
    assert area.max() == pytest.approx(true_max, rel=0.25)
    assert len(brain_slices(subject.ct, 0.0)) == subject.ct.shape[0]


def test_refuses_other_modalities(subject):
    with pytest.raises(ValueError, match="CT or MR"):
        intracranial_area(subject.ct.with_array(subject.ct.array, modality="PET"))
