"""Models for the pages: cached loading keyed by name and device, a picker, and honest caveats.

Cached networks are shared by every session: a page must not change their mode, hooks or
weights (attribution and MC-dropout code works on a copy or under a lock).
"""

from __future__ import annotations

import streamlit as st

from fusion_core.case import Case
from fusion_core.inference import LoadedModel, list_models, load_model, read_card, select_device
from fusion_core.inference.registry import ASSETS_DIR, ModelCard
from fusion_core.report.caveats import model_caveats

TASK_LABELS = {
    "classifier": "lesion classifier",
    "vae": "multimodal VAE (product of experts)",
    "translator": "translator (CycleGAN)",
    "synthesis": "synthesis (U-Net)",
    "diffusion": "diffusion model",
}


@st.cache_resource(show_spinner="Loading the model…", max_entries=24)
def cached_model(name: str, device: str) -> LoadedModel:
    """A shipped model loaded once per server process and device (never mutated by pages)."""
    return load_model(name, device=device)


def get_model(name: str) -> LoadedModel:
    """The shipped model ``name`` on the device this machine uses (CUDA, else MPS, else CPU)."""
    return cached_model(name, str(select_device()))


@st.cache_data(show_spinner=False)
def model_cards(task: str | None = None) -> dict[str, ModelCard]:
    """Cards of the shipped models of ``task`` ("classifier", "generative", ... or None for all), by name."""
    return {name: read_card(ASSETS_DIR / name) for name in list_models(task=task)}


def describe(card: ModelCard) -> str:
    """One line for a picker: name · task · inputs (· trained on paired or unpaired scans, when the card says)."""
    trained = f" · trained on {card.training_data} scans" if card.training_data else ""
    return f"{card.name} · {TASK_LABELS.get(card.task, card.task)} · {card.describe_inputs()}{trained}"


def model_picker(
    label: str, *, task: str | None = None, inputs: tuple[str, ...] | None = None, key: str, default: str | None = None
) -> str | None:
    """A selectbox of the shipped models of ``task`` that read any of ``inputs``; None when there is none."""
    cards = {n: c for n, c in model_cards(task).items() if inputs is None or set(c.inputs) & set(inputs)}
    if not cards:
        st.info(f"No shipped {TASK_LABELS.get(task or '', 'model')} reads {', '.join(inputs or ())}.")
        return None
    names = list(cards)
    index = names.index(default) if default in names else 0
    return st.selectbox(label, names, index=index, format_func=lambda n: describe(cards[n]), key=key)


def caveats(card: ModelCard, case: Case) -> list[str]:
    """What a user must know before reading this model's output on this case (empty when nothing)."""
    return model_caveats(card, case)


def show_caveats(card: ModelCard, case: Case) -> None:
    for note in caveats(card, case):
        st.warning(note, icon=":material/info:")
