"""A 4-subject phantom cohort written by the phantom CLI, and light pipeline settings for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion_core.pipeline import PipelineConfig

FAST_REGISTRATION = {"multi_start_deg": 0.0, "iterations": 30, "coarse_iterations": 10}


def light_config(steps=("register", "normalise"), **changes) -> PipelineConfig:
    """Cheap settings: short registration, one MC-dropout pass, few TRE points."""
    options = {
        "steps": steps,
        "synthesis_models": ("vae-poe",),
        "classifiers": ("clf-early",),
        "encoders": ("vae-poe",),
        "registration": FAST_REGISTRATION,
        "mc_samples": 1,
        "tre_points": 50,
    }
    return PipelineConfig(**(options | changes))


@pytest.fixture(scope="session")
def phantom_cohort(tmp_path_factory) -> Path:
    """4 paired phantom subjects (20 voxels in-plane) in the SynthRAD layout, written by the phantom CLI."""
    from fusion_core.data.export import cli

    root = tmp_path_factory.mktemp("pipeline") / "cohort"
    assert cli(["--out", str(root), "--n", "4", "--size", "20", "--seed", "3"]) == 0
    return root
