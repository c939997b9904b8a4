"""The training loop: seeding, data, DDP, AMP, early stopping, checkpoints, metrics CSV/JSON, model card."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

import fusion_core.training.distributed as dist_utils
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.devices import autocast, select_device
from fusion_core.models import PatchDiscriminator, build_model
from fusion_core.models.config import Task
from fusion_core.training.checkpoint import init_from_checkpoints, load_state, save_model, save_state
from fusion_core.training.cohort_folder import folder_record, folder_training_data
from fusion_core.training.config import TrainConfig, scheduled_lr
from fusion_core.training.slice_table import SliceDataConfig, SliceDataset, build_slice_table
from fusion_core.training.steps import MONITOR, critic_step, cycle_step, random_patch, supervised_loss, validate


@dataclasses.dataclass
class TrainResult:
    """What a run produced: best validation metrics, per-epoch history, where, and how long."""

    out_dir: Path
    best: dict[str, float]
    history: list[dict[str, float]]
    steps: int
    seconds: float
    stopped_early: bool
    rank: int = 0


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def improved(value: float, best: float | None, mode: str) -> bool:
    """True when ``value`` beats ``best`` (``mode`` "max" or "min"; any value beats None or NaN)."""
    if math.isnan(value):
        return best is None
    return best is None or math.isnan(best) or (value > best if mode == "max" else value < best)


class Run:
    """State of one training run (kept in an object so each phase is a short method)."""

    def __init__(self, config: TrainConfig, out_dir: Path, state_dir: Path, progress: bool) -> None:
        self.config, self.out_dir, self.state_dir, self.progress = config, out_dir, state_dir, progress
        self.task = config.task_enum
        self.device = dist_utils.local_device(select_device())
        self.distributed = dist_utils.init_distributed(self.device)
        if config.num_threads and self.device.type == "cpu":
            torch.set_num_threads(config.num_threads)
        seed_everything(config.seed)
        self.weights = config.loss_weights()
        self.model = build_model(config.task, config.model)
        self.initialised = init_from_checkpoints(self.model, config.init_from) if config.init_from else []
        self.model.to(self.device)
        self.critic = self._make_critic()
        self.net = self._wrap(self.model)
        self.optimisers = self._make_optimisers()
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float] = {}
        self.epoch = self.steps = self.bad_epochs = 0

    def _make_critic(self):
        if self.task == Task.VAE and getattr(self.weights, "adversarial", 0):
            return PatchDiscriminator(1, 16).to(self.device)
        return None

    def _wrap(self, model):
        if not self.distributed or self.task == Task.TRANSLATOR:
            return model  # the translator averages gradients itself (several optimisers per step)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def _make_optimisers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config

        def adam(params):
            return torch.optim.AdamW(
                params,
                lr=c.lr,
                weight_decay=c.weight_decay,
                betas=(0.5, 0.999) if self.task == Task.TRANSLATOR else (0.9, 0.999),
            )

        if self.task == Task.TRANSLATOR:
            m = self.model
            gens = [*m.ct_to_mr.parameters(), *m.mr_to_ct.parameters()]
            return {"G": adam(gens), "CT": adam(m.disc_ct.parameters()), "MR": adam(m.disc_mr.parameters())}
        opts = {"model": adam(self.model.parameters())}
        if self.critic is not None:
            opts["critic"] = adam(self.critic.parameters())
        return opts

    def load_data(self) -> None:
        """Build (rank 0 first) the slice table and the train and validation loaders."""
        data_config = self.config.data_config()
        if dist_utils.is_main():
            table = build_slice_table(data_config, progress=self.progress)
        if self.distributed:
            torch.distributed.barrier()  # rank 0 generated and cached the cohort; the others read the cache
        if not dist_utils.is_main():
            table = build_slice_table(data_config)
        self.train_set, self.val_set = SliceDataset(table, "train"), SliceDataset(table, "val")
        self.sampler = (
            DistributedSampler(self.train_set, shuffle=True, seed=self.config.seed) if self.distributed else None
        )
        g = torch.Generator().manual_seed(self.config.seed)
        self.train_loader = DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            shuffle=self.sampler is None,
            sampler=self.sampler,
            generator=g,
            drop_last=len(self.train_set) > self.config.batch_size,
        )
        val = self.val_set
        if self.config.val_stride > 1:
            val = torch.utils.data.Subset(val, range(0, len(val), self.config.val_stride))
        self.val_loader = DataLoader(val, batch_size=128)
        per_epoch = len(self.train_loader)
        planned = self.config.epochs * per_epoch
        self.total_steps = min(planned, self.config.max_steps) if self.config.max_steps else planned

    def set_learning_rate(self) -> None:
        """Set every optimiser's learning rate to the schedule's value at this step."""
        lr = scheduled_lr(self.config, self.steps, self.total_steps)
        for opt in self.optimisers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def resume(self) -> None:
        """Restore model, optimisers and counters from the state folder, if it holds a state."""
        state = load_state(self.state_dir)
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        for k, opt in self.optimisers.items():
            opt.load_state_dict(state["optimisers"][k])
        self.epoch, self.steps, self.bad_epochs = state["epoch"], state["steps"], state["bad_epochs"]
        self.history, self.best = json.loads(state["history"]), json.loads(state["best"])

    def train_epoch(self) -> dict[str, float]:
        """Train one epoch.

        Returns:
            The mean of each loss term over the epoch's batches.
        """
        self.net.train()
        if self.sampler is not None:
            self.sampler.set_epoch(self.epoch)
        sums: dict[str, float] = {}
        n = 0
        bar = tqdm(
            self.train_loader,
            desc=f"{self.config.name} epoch {self.epoch + 1}/{self.config.epochs}",
            disable=not (self.progress and dist_utils.is_main()),
            leave=False,
        )
        for batch in bar:
            self.set_learning_rate()
            terms = self.step({k: v.to(self.device) for k, v in batch.items()})
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
            self.steps += 1
            bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()})
            if self.config.max_steps and self.steps >= self.config.max_steps:
                break
        lr = self.optimisers[next(iter(self.optimisers))].param_groups[0]["lr"]
        return {f"train_{k}": v / max(n, 1) for k, v in sums.items()} | {"lr": lr}

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One optimisation step on ``batch``.

        Returns:
            The loss terms as floats.
        """
        batch = random_patch(batch, self.config.patch_size)
        if self.task == Task.TRANSLATOR:
            opt = self.optimisers
            return cycle_step(self.model, batch, self.weights, opt["G"], {"CT": opt["CT"], "MR": opt["MR"]})
        opt = self.optimisers["model"]
        opt.zero_grad(set_to_none=True)
        with autocast(self.device) if self.config.amp else torch.autocast("cpu", enabled=False):
            loss, terms, out = supervised_loss(
                self.net,
                batch,
                self.task,
                self.weights,
                critic=self.critic,
                noise_prob=self.config.noise_modality_prob,
                flip_prob=self.config.flip_prob,
            )
        loss.backward()
        opt.step()
        result = {k: float(v.detach()) for k, v in terms.items()} | {"loss": float(loss.detach())}
        if self.critic is not None:
            result["critic"] = critic_step(
                self.critic, self.optimisers["critic"], batch["CT"], out.recon["CT"][: batch["CT"].shape[0]]
            )
        return result

    def end_epoch(self, train_metrics: dict[str, float]) -> bool:
        """Validate, checkpoint the best model, record metrics; True when training should stop."""
        metrics = validate(self.model, self.val_loader, self.task, self.weights, self.device)
        key, mode = MONITOR[self.task]
        self.epoch += 1
        row = {"epoch": self.epoch, "steps": self.steps, **train_metrics, **metrics}
        self.history.append(row)
        if improved(metrics[key], self.best.get(key), mode) or self.config.keep == "last":
            self.best, self.bad_epochs = dict(row), 0
            if dist_utils.is_main():
                save_model(self.model, self.out_dir)
        else:
            self.bad_epochs += 1
        if dist_utils.is_main():
            self.save_progress()
        out_of_steps = bool(self.config.max_steps) and self.steps >= self.config.max_steps
        return out_of_steps or (self.config.patience > 0 and self.bad_epochs >= self.config.patience)

    def save_progress(self) -> None:
        """Save the resumable state and write the metrics so far."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        save_state(self.state_dir, {
            "model": self.model.state_dict(),
            "optimisers": {k: o.state_dict() for k, o in self.optimisers.items()},
            "epoch": self.epoch, "steps": self.steps, "bad_epochs": self.bad_epochs,
            "history": json.dumps(self.history), "best": json.dumps(self.best),
        })  # fmt: skip
        write_metrics(self.out_dir, self.history, self.best)


def write_metrics(out_dir: Path, history: list[dict[str, float]], best: dict[str, float]) -> None:
    """metrics.csv (one row per epoch) and metrics.json ({"best": ..., "history": ...})."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
    with open(out_dir / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    (out_dir / "metrics.json").write_text(json.dumps({"best": best, "history": history}, indent=2))


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    state_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    command: str | None = None,
) -> TrainResult:
    """Train one model; writes the best weights, trainer.json, metrics and model_card.json to ``out_dir``.

    Args:
        config: the run's TrainConfig.
        out_dir: checkpoint folder (model.safetensors + config.json + trainer.json + metrics + card).
        state_dir: where the resumable state.pt goes (default ``out_dir``).
        resume: continue from ``state_dir/state.pt`` when present.
        progress: show tqdm bars (rank 0 only).
        command: the command line recorded in the model card (default: this process's argv).
    """
    out_dir = Path(out_dir)
    run = Run(config, out_dir, Path(state_dir or out_dir), progress)
    start = time.perf_counter()
    try:
        run.load_data()
        if resume:
            run.resume()
        stopped = False
        while run.epoch < config.epochs and not stopped:
            stopped = run.end_epoch(run.train_epoch())
        seconds = time.perf_counter() - start
        if dist_utils.is_main():
            (out_dir / "trainer.json").write_text(json.dumps(config.to_dict(), indent=2))
            write_card(out_dir, config, run, seconds, command)
        early = stopped and run.epoch < config.epochs
        return TrainResult(out_dir, run.best, run.history, run.steps, seconds, early, dist_utils.rank())
    finally:
        dist_utils.cleanup()


def model_inputs(model_cfg: Any) -> list[str]:
    """The card's input names: "CT" and one "MR-<weighting>" per MR weighting the network stacks."""
    if hasattr(model_cfg, "input_names"):  # paired generators read one side only
        return list(model_cfg.input_names)
    mr = [f"MR-{w}" for w in getattr(model_cfg, "mr_weightings", ("T1",))]
    strategy = getattr(model_cfg, "strategy", None)
    return {"ct": ["CT"], "mr": mr}.get(strategy, ["CT", *mr])  # a unimodal specialist reads only its own


def cohort_record(data: SliceDataConfig) -> dict[str, Any]:
    """Which cohort spec and splits a model was trained and validated on (and tested on, for classifiers)."""
    spec = data.spec
    record: dict[str, Any] = {
        "spec": spec.name,
        "split": "train",
        "validation": {"spec": spec.name, "split": "val"},
        "definition": spec.as_dict(),
    }
    record["test"] = (
        {"spec": "demo", "split": "test"} if spec.split_fractions[2] == 0 else {"spec": spec.name, "split": "test"}
    )
    if data.cohort_dir:  # a cohort folder: the card names it and its content digest
        record.update(folder_record(data.cohort_dir))
        made_from = record.get("provenance", {}).get("cohort")
        if made_from:  # made from a spec's train and val members (pseudo-pairs): the card names that spec
            made = get_cohort_spec(made_from)
            record.update(spec=made.name, validation={"spec": made.name, "split": "val"}, definition=made.as_dict())
            record["test"] = {"spec": "demo", "split": "test"}  # benchmarked on the app's demo subjects
    return record


def training_data(data: SliceDataConfig) -> str:
    """Whether each training subject's CT and MR came from one person: "paired", else "unpaired"."""
    if data.cohort_dir:
        return folder_training_data(data.cohort_dir)
    return "paired" if data.spec.paired else "unpaired"


def write_card(out_dir: Path, config: TrainConfig, run: Run, seconds: float, command: str | None) -> None:
    """model_card.json: what the model is, what it was trained on, how well it did, how to redo it."""
    model_cfg = config.model_config()
    card: dict[str, Any] = {
        "name": config.name,
        "task": config.task,
        "inputs": model_inputs(model_cfg),
        "cohort": cohort_record(config.data_config()),
        "training_data": training_data(config.data_config()),
        "config": config.model,
        "trainer": config.to_dict(),
        "seed": config.seed,
        "metrics": {k: v for k, v in run.best.items() if k.startswith("val_")},
        "best_epoch": run.best.get("epoch"),
        "epochs_run": run.epoch,
        "command": command or "python -m fusion_core.training " + shlex.join(sys.argv[1:]),
        "train_seconds": round(seconds, 3),
        "device": str(run.device),
        "world_size": dist_utils.world_size(),
        "torch": torch.__version__,
        "n_parameters": sum(p.numel() for p in run.model.parameters()),
        "init_from": list(config.init_from),
        "n_initialised_tensors": len(run.initialised),
    }
    if config.task == Task.CLASSIFIER.value:
        card["strategy"] = model_cfg.strategy
    else:  # what ``impute`` can produce
        card["outputs"] = list(getattr(run.model, "outputs", getattr(run.model, "modalities", ())))
    card_path = out_dir / "model_card.json"
    if card_path.exists():  # keep measurements that benchmarks added earlier
        old = json.loads(card_path.read_text())
        card = {**{k: v for k, v in old.items() if k not in card}, **card}
    card_path.write_text(json.dumps(card, indent=2))
