"""What a reader must know beside a model's output.

The cohort it was trained on, and whether this scan is of that kind (every shipped model was trained
on the synthetic phantom).
"""

from __future__ import annotations

from typing import Any

from fusion_core.io.dicom_writer import card_version
from fusion_core.report.model import ModelNote


def model_caveats(card: Any, case: Any) -> list[str]:
    """Warnings for ``card``'s output on ``case`` (empty when none applies).

    A phantom case (``meta["cohort_spec"]``) whose cohort trained the model is not a fair test; a
    case from anywhere else is a kind of scan the model was not validated on.
    """
    spec = case.meta.get("cohort_spec")
    if spec and spec in card.trained_on:
        return [f"{card.name} was trained on subjects of the '{spec}' cohort: its output on them is not a fair test."]
    if not spec:
        return [
            f"{card.name} was trained on the synthetic phantom cohort and was not validated on this kind of "
            "scan; on other data its output is a demonstration, not a measurement."
        ]
    return []


def trained_on(card: Any) -> str:
    """e.g. "'classifier-train' cohort (synthetic phantom), train split; validated on 'classifier-train' val"."""
    cohort = card.cohort
    if not cohort.get("spec"):
        return "unknown (the model card names no cohort)"
    text = f"'{cohort['spec']}' cohort (synthetic phantom), {cohort.get('split', 'train')} split"
    validation = cohort.get("validation") or {}
    if validation.get("spec"):
        text += f"; validated on '{validation['spec']}' {validation.get('split', 'val')}"
    return text


def model_note(card: Any, case: Any) -> ModelNote:
    """The note printed on every model result of the report."""
    return ModelNote(card.name, card_version(card.raw), trained_on(card), tuple(model_caveats(card, case)))
