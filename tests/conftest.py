"""Shared fixtures: tiny seeded volumes (16^3) so every test runs in milliseconds; test tiers.

Tiers (``make test`` runs all; ``make test-fast`` deselects ``slow``, ``e2e`` and ``app``): tests under
``tests/e2e`` drive a browser (``e2e``, also ``slow``), tests under ``tests/app`` run pages in AppTest
(``app``), and the engine tests in ``SLOW`` are ``slow`` by measured duration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusion_core.volume import Volume


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def small_ct(rng: np.random.Generator) -> Volume:
    """A 16^3 CT-like volume: air around a water sphere with a bony shell, in HU."""
    z, y, x = np.mgrid[:16, :16, :16] - 7.5
    r = np.sqrt(x**2 + y**2 + z**2)
    array = np.full((16, 16, 16), -1000.0)
    array[r < 7] = 800.0
    array[r < 6] = 30.0
    array += rng.normal(0, 5, array.shape)
    return Volume(array.astype(np.float32), spacing=(1.5, 1.5, 2.0), origin=(-12.0, -12.0, -16.0), modality="CT")


@pytest.fixture
def oblique_direction() -> tuple[float, ...]:
    """A proper rotation (20 deg about z, then 10 deg about x), row-major."""
    a, b = np.deg2rad(20), np.deg2rad(10)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return tuple((rz @ rx).ravel())


TESTS = Path(__file__).resolve().parent
# Engine tests that took 5 s or more in ``pytest --durations`` of the fast tier (2 cores shared with
# other work at load ~16, so several times a quiet machine), by node id prefix; seconds as measured.
SLOW = (
    "tests/pipeline/test_pipeline.py::",  # 77 (fixture) + 36 + 19 + 18 + 9: whole cohorts through the pipeline
    "tests/evaluation/test_shift.py::test_split_indices_are_the_stratified_split_of_the_built_subjects",  # 65
    "tests/evaluation/test_shift.py::test_zero_shift_",  # 22, 9
    "tests/evaluation/test_classical.py::test_both_models_learn_and_use_only_the_present_modalities",  # 10
    "tests/inference/test_shipped.py::test_shipped_model_runs[diffusion-refiner]",  # 63
    "tests/inference/test_shipped.py::test_shipped_model_runs[vae-poe]",  # 14
    "tests/inference/test_shipped.py::test_shipped_model_runs[synth-unet",  # 10, 9, 8
    "tests/inference/test_shipped.py::test_shipped_model_runs[translator-cyclegan-paired]",  # 5
    "tests/inference/test_shipped.py::test_shipped_classifiers_see_what_their_modality_shows",  # 12 + 37
    "tests/inference/test_generate.py::test_diffusion_mean_and_spread_on_the_input_grid",  # 29
    "tests/inference/test_generate.py::test_a_vae_samples_its_posterior",  # 18, 17
    "tests/inference/test_generate.py::test_flip_averaging_is_mirror_equivariant",  # 6
    "tests/inference/test_inference.py::test_batched_equals_per_slice",  # 5
    "tests/models/test_unet.py::test_more_samples_shrink_the_spread_of_the_mean",  # 25
    "tests/models/test_unet.py::test_sampler_is_deterministic_under_a_seed",  # 20
    "tests/models/test_vae.py::test_build_from_dict_round_trip",  # 5
    "tests/losses/test_losses.py::test_cycle_gradients_flow_through_each_term[adversarial]",  # 11
    "tests/losses/test_losses.py::test_cycle_gradients_flow_through_each_term[cycle]",  # 11
    "tests/losses/test_losses.py::test_vae_gradients_flow_through_each_term[reconstruction]",  # 6
    "tests/test_latents.py::test_projection_shape_and_determinism[tsne]",  # 34
    "tests/test_layering.py::test_serving_never_imports_training_code",  # 19, 19, 10: fresh interpreters
    "tests/test_volume.py::test_core_never_imports_streamlit",  # 15: imports every module afresh
    "tests/teaching/test_layering.py::test_light_demos_import_no_torch",  # 6
    "tests/io/test_fuzz.py::test_random_uploads_stay_in_their_folder",  # 9
    "tests/io/test_real_images.py::test_mni152_template_loads_with_shape_spacing_orientation",  # 5
    "tests/registration/test_register.py::test_multi_start_escapes_large_rotation",  # 5
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by tier: the browser and AppTest folders, and the measured slow engine tests."""
    for item in items:
        folder = Path(item.path).relative_to(TESTS).parts[0]
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
        elif folder == "app":
            item.add_marker(pytest.mark.app)
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
