"""Cohort specs: one source of truth for who is in which cohort, deterministic and disjoint."""

import numpy as np
import pytest

from fusion_core.data.cohorts import UnknownCohortError, get_cohort_spec, list_cohort_specs
from fusion_core.data.phantom import make_cohort


def small(spec, n=4):
    return spec.replace(n=n, options=spec.phantom_options | {"size": 24})


def test_every_spec_has_a_description_and_the_public_names_work():
    assert {"demo", "classifier-train", "vae-train", "translator-train"} <= set(list_cohort_specs())
    spec = get_cohort_spec("demo")
    assert spec.description and spec.n >= 60 and isinstance(spec.phantom_options, dict)
    with pytest.raises(UnknownCohortError, match="demo"):
        get_cohort_spec("no-such-cohort")


def test_no_demo_subject_shares_a_seed_with_a_training_subject():
    demo = set(get_cohort_spec("demo").seeds)
    for name in list_cohort_specs():
        if name != "demo":
            assert demo.isdisjoint(get_cohort_spec(name).seeds), name


def test_subject_is_deterministic_and_equals_the_cohort_member():
    spec = small(get_cohort_spec("demo"))
    a, b = spec.subject(2), spec.subject(2)
    np.testing.assert_array_equal(a.ct.array, b.ct.array)
    member = make_cohort(3, seed=spec.seed, sites=spec.sites, **spec.phantom_options)[2]
    np.testing.assert_array_equal(a.mr.array, member.mr.array)
    with pytest.raises(IndexError):
        spec.subject(spec.n)


def test_replace_draws_other_people_from_the_same_distribution():
    spec = small(get_cohort_spec("demo"))
    other = spec.replace(seed=spec.seed + 7)
    assert other.phantom_options == spec.phantom_options
    assert not np.array_equal(spec.subject(0).ct.array, other.subject(0).ct.array)


def test_demo_lesions_are_conspicuous_where_they_are_in_reality():
    spec = get_cohort_spec("demo")
    ranges = spec.phantom_options["conspicuity_by_type"]
    seen = {}
    for i in range(40):
        subject = small(spec, n=40).subject(i)
        kind = subject.meta["lesion_type"]
        if subject.label:
            seen[kind] = subject.meta["conspicuity"]
            for modality, (low, high) in ranges[kind].items():
                assert low <= subject.meta["conspicuity"][modality] <= high
    assert set(seen) == {"calcified", "subacute-haemorrhage", "oedema"}
    assert seen["calcified"]["MR"] <= 0.15 and seen["subacute-haemorrhage"]["CT"] <= 0.15


def test_complementary_spec_interleaves_two_halves():
    spec = get_cohort_spec("vae-train").replace(n=4, options={"size": 24})
    kinds = [spec.subject(i).meta["lesion_type"] for i in range(4)]
    calcified, other = kinds[0::2], kinds[1::2]
    assert set(calcified) <= {"calcified", "none"} and set(other) <= {"oedema", "none"}
    assert spec.seeds == (spec.seed, spec.seed + 1)


def test_conspicuity_by_type_leaves_subjects_without_it_unchanged():
    from fusion_core.data.phantom import make_subject

    plain = make_subject(5, size=24, label=1, lesion_type="calcified")
    drawn = make_subject(
        5, size=24, label=1, lesion_type="calcified", conspicuity_by_type={"oedema": {"CT": (0.1, 0.2)}}
    )
    np.testing.assert_array_equal(plain.ct.array, drawn.ct.array)
