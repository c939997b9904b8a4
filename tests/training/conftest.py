"""A tiny real phantom cohort (size 32, 6 subjects) and tiny configs for every task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ENC = {"image_size": 32, "base_channels": 8, "n_down": 2, "max_channels": 16}


def tiny_config(task: str, cache_dir: Path, **extra) -> dict:
    data = {
        "n_subjects": 6,
        "phantom_options": {"size": 32},
        "image_size": 32,
        "slice_step": 4,
        "cache_dir": str(cache_dir),
        "split_fractions": [0.5, 0.25, 0.25],
    }
    model = {
        "vae": {"encoder": ENC, "latent_dim": 8},
        "classifier": {"strategy": "poe", "encoder": ENC, "embed_dim": 8, "modality_dropout": 0.3},
        "translator": {"image_size": 32, "base_channels": 8, "n_res_blocks": 1, "disc_channels": 8},
    }[task]
    if task == "translator":
        data["paired"] = False
    return {
        "name": f"tiny-{task}",
        "task": task,
        "model": model,
        "data": data,
        "epochs": 1,
        "batch_size": 4,
        "max_steps": 2,
        "patience": 0,
        "num_threads": 1,
        **extra,
    }


@pytest.fixture(scope="session")
def cohort_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def write_config(tmp_path, cohort_cache):
    def write(task: str, **extra) -> Path:
        path = tmp_path / f"{task}.json"
        path.write_text(json.dumps(tiny_config(task, cohort_cache, **extra)))
        return path

    return write
