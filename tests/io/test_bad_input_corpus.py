"""The bad-input corpus (tests/io/bad_inputs.py) through every route: refused with a message naming the
input, or loaded with a note; never a crash, a write outside the scratch folder, or a big allocation.
The README's reliability table is generated from the same run, so it cannot drift."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from tests.io.bad_inputs import ABSOLUTE_TARGET, CORPUS, ROUTES, markdown_table, run_corpus

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_START, TABLE_END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = run_corpus(tmp_path_factory.mktemp("corpus"))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return results, grown_mb


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 40 and len({case.name for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_each_route_refuses_or_loads_as_expected(corpus_run, case):
    outcomes = corpus_run[0][case.name]
    crashes = {route: o.message for route, o in outcomes.items() if o.status == "CRASH"}
    assert not crashes
    checked = ("load_cohort",) if case.kind == "pair" else ROUTES  # a pair loads, then registers
    expected = "loaded" if case.loads else "refused"
    assert {route: outcomes[route].status for route in checked if outcomes[route].status != "n/a"} == {
        route: expected for route in checked if outcomes[route].status != "n/a"
    }


@pytest.mark.parametrize("case", [c for c in CORPUS if not c.loads and c.kind != "pair"], ids=lambda c: c.name)
def test_refusals_name_the_input_and_never_the_scratch_folder(corpus_run, case):
    for route, outcome in corpus_run[0][case.name].items():
        if outcome.status != "refused":
            continue
        cohort = route == "load_cohort" and ("s1/ct" in outcome.message or "<tmp>/cohort:" in outcome.message)
        named = case.name in outcome.message or cohort
        assert named, (route, outcome.message)
        assert "Traceback" not in outcome.message
        if route == "upload":  # the user's file name, never the server's scratch folder
            assert outcome.message.startswith(f"cannot load '{case.name}"), outcome.message
            assert "<tmp>" not in outcome.message and "upload." not in outcome.message


def test_nothing_escapes_and_memory_stays_small(corpus_run, tmp_path):
    assert not Path(ABSOLUTE_TARGET).exists()
    assert corpus_run[1] < 300, f"peak resident memory grew by {corpus_run[1]:.0f} MB over the corpus"


def test_readme_table_is_the_generated_one(corpus_run):
    text = README.read_text()
    assert TABLE_START in text and TABLE_END in text, "README lacks the bad-input table markers"
    shown = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert shown == markdown_table(corpus_run[0]), "regenerate it: python -m tests.io.bad_inputs"
