"""Hypothesis fuzzing: random bytes and mutated valid headers into every reader, random names and bytes
into uploads, random options into registration and normalisation.

Bounded: ``FUSION_FUZZ_EXAMPLES`` examples per target (default 25: a few seconds each in ``make test``);
set it higher (e.g. 2000) for a longer search. Readers must load or raise VolumeLoadError; the
option fuzzers must return finite results or raise a ValueError (FusionErrors are ValueErrors) that
names the option.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion_core.io import VolumeLoadError, load_upload, load_volume_with_report, save_volume
from fusion_core.volume import Volume
from tests.io.dicom_factory import write_series

EXAMPLES = int(os.environ.get("FUSION_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 25, suppress_health_check=list(HealthCheck)
)
SUFFIXES = (".nii", ".nii.gz", ".mha", ".nrrd", ".dcm")


def _valid_files() -> dict[str, bytes]:
    """One small valid file per format, as bytes."""
    volume = Volume(np.random.default_rng(0).normal(100, 20, (4, 5, 6)).astype(np.float32), modality="MR")
    with tempfile.TemporaryDirectory() as folder:
        for suffix in SUFFIXES[:-1]:
            save_volume(volume, Path(folder) / f"v{suffix}")
        write_series(Path(folder) / "dcm", np.zeros((1, 4, 4), np.float32))
        files = {suffix: (Path(folder) / f"v{suffix}").read_bytes() for suffix in SUFFIXES[:-1]}
        files[".dcm"] = next((Path(folder) / "dcm").iterdir()).read_bytes()
    files[".nii"] = gzip.decompress(files[".nii.gz"]) if files[".nii"][:2] == b"\x1f\x8b" else files[".nii"]
    return files


VALID = _valid_files()


def _read(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            volume, _ = load_volume_with_report(path)
        except VolumeLoadError as error:
            assert "fuzz" in str(error)
            return
        assert volume.array.dtype == np.float32 and np.all(np.isfinite(volume.array))
        assert volume.array.size <= 512 * 2**20


@FUZZ
@given(suffix=st.sampled_from(SUFFIXES), data=st.binary(min_size=1, max_size=4096))
def test_random_bytes_into_each_reader(suffix, data):
    _read(suffix, data)


@FUZZ
@given(
    suffix=st.sampled_from(SUFFIXES),
    edits=st.lists(st.tuples(st.integers(0, 599), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_valid_headers_into_each_reader(suffix, edits):
    blob = bytearray(gzip.decompress(VALID[suffix]) if suffix == ".nii.gz" else VALID[suffix])
    for position, value in edits:  # the first 600 bytes: every header field of these small files
        blob[position % len(blob)] = value
    _read(suffix, gzip.compress(bytes(blob)) if suffix == ".nii.gz" else bytes(blob))


@FUZZ
@given(
    name=st.text(min_size=0, max_size=40),
    suffix=st.sampled_from((*SUFFIXES, ".zip", "", ".txt")),
    data=st.binary(max_size=2048),
)
def test_random_uploads_stay_in_their_folder(name, suffix, data):
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "work"
        try:
            load_upload(name + suffix, data, work)
        except VolumeLoadError as error:
            assert folder not in str(error)
        outside = [p for p in Path(folder).rglob("*") if not p.resolve().is_relative_to(work.resolve())]
        assert outside in ([], [work])


@pytest.fixture(scope="module")
def pair():
    from fusion_core.data.phantom import make_subject

    subject = make_subject(1, size=24)
    return subject.ct, subject.mr


@FUZZ
@given(
    options=st.fixed_dictionaries(
        {},
        optional={
            "sampling": st.floats(-1, 2) | st.just(float("nan")),
            "bins": st.integers(-4, 300),
            "levels": st.lists(st.integers(-2, 9), max_size=4).map(tuple),
            "smoothing": st.lists(st.floats(-1, 5), max_size=4).map(tuple),
            "iterations": st.integers(-2, 6),
            "max_step_mm": st.floats(-1, 50) | st.just(float("nan")),
            "min_step": st.floats(-1, 1),
            "relaxation": st.floats(-1, 2),
            "multi_start_deg": st.floats(-30, 60),
            "coarse_iterations": st.integers(-2, 5),
            "finalists": st.integers(-1, 4),
            "mode": st.sampled_from(["rigid", "affine", "bspline", "RIGID", "warp", ""]),
            "initialization": st.sampled_from(["moments", "geometry", "none", "psychic"]),
            "mask": st.sampled_from(["auto", "none", "maybe"]),
        },
    )
)
def test_random_registration_options(pair, options):
    from fusion_core.registration import register

    options.setdefault("iterations", 3)
    options["coarse_iterations"] = min(options.get("coarse_iterations", 2), 3)
    try:
        result = register(*pair, **options)
    except ValueError as error:  # RegistrationError and bad options (FusionError is a ValueError)
        assert str(error)
        return
    assert np.all(np.isfinite(result.transform.GetParameters()))
    assert np.all(np.isfinite(result.resampled.array))


@FUZZ
@given(
    method=st.sampled_from(["ct_window", "percentile_clip", "zscore", "mr_to_ct_scale", "histogram_match", "x"]),
    options=st.fixed_dictionaries(
        {},
        optional={
            "lower": st.floats(-10, 110) | st.just(float("nan")),
            "upper": st.floats(-10, 110) | st.just(float("nan")),
            "preset": st.sampled_from(["brain", "bone", "lung", "nope"]),
        },
    ),
    constant=st.booleans(),
)
def test_random_normalisation_options(pair, method, options, constant):
    from fusion_core.preprocess.normalise import normalise

    ct, mr = pair
    volume = mr.with_array(np.full_like(mr.array, 7.0)) if constant else mr
    wanted = {"ct_window": {"preset"}, "percentile_clip": {"lower", "upper"}, "histogram_match": set()}
    options = {k: v for k, v in options.items() if k in wanted.get(method, {"lower", "upper", "preset"})}
    try:
        result = normalise(volume, method, reference=ct, **options)
    except (ValueError, TypeError) as error:
        assert str(error)
        return
    assert np.all(np.isfinite(result.volume.array)), (method, options, constant)


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"finalists": 0}, "finalists must be >= 1"), ({"iterations": -1}, "iterations must be >= 1")],
)
def test_fuzzing_findings_are_refused_with_a_message(options, problem):
    """What the fuzzer found: these crashed inside the optimiser (ZeroDivisionError, OverflowError)."""
    from fusion_core.registration import RegistrationOptions

    with pytest.raises(ValueError, match=problem):
        RegistrationOptions(**options)
