"""Training: ``python -m fusion_core.training --config configs/<name>.json`` (works under torchrun).

``train(config, out_dir)`` runs one model; ``fusion_core.training.train_all`` retrains every
shipped checkpoint under ``assets/models/``.
"""

from fusion_core.training.checkpoint import CheckpointError, load_model_dir, save_model
from fusion_core.training.config import TrainConfig, load_train_config
from fusion_core.training.loop import TrainResult, train

__all__ = [
    "CheckpointError",
    "TrainConfig",
    "TrainResult",
    "load_model_dir",
    "load_train_config",
    "save_model",
    "train",
]
