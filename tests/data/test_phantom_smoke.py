"""Smoke test of the phantom API (the full suite lives beside it)."""

from __future__ import annotations

from fusion_core.data.phantom import PhantomSubject, make_subject


def test_make_subject_returns_paired_volumes():
    subject = make_subject(0, size=32)
    assert isinstance(subject, PhantomSubject)
    assert subject.ct.modality == "CT" and subject.mr.modality == "MR-T1" and subject.mr_t2.modality == "MR-T2"
    assert subject.mr.same_grid(subject.mr_t2)
    assert not subject.mr.same_grid(subject.ct)
    assert set(subject.masks) == {"head", "brain", "bone", "lesion"}
    assert subject.mr_on_ct_grid().same_grid(subject.ct)
