"""Tissue classes of the head phantom and their physical properties (CT HU, MR PD/T1/T2).

Values follow the tissue table of DESIGN.md (approximate 1.5 T literature values). MR intensities
come from the spin-echo signal equation ``S = PD * (1 - exp(-TR/T1)) * exp(-TE/T2)`` so that tissue
order and contrast stay physically right for any TR/TE a site uses.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np


class Tissue(enum.IntEnum):
    """Integer labels of the phantom's tissue map (``PhantomSubject.tissue``)."""

    AIR = 0
    SCALP = 1  # skin, galea, muscle (neck and temporalis too)
    FAT = 2
    CORTICAL_BONE = 3
    DIPLOE = 4
    CSF = 5  # subarachnoid space, sulci, fissures, cisterns
    VENTRICLE = 6  # ventricular CSF
    GREY_MATTER = 7
    WHITE_MATTER = 8
    DEEP_GREY = 9  # caudate, putamen, thalamus
    LESION = 10
    EYE = 11  # vitreous humour
    SINUS = 12  # air inside the head (paranasal sinuses, nasal cavity)


BRAIN_TISSUES = (
    Tissue.CSF,
    Tissue.VENTRICLE,
    Tissue.GREY_MATTER,
    Tissue.WHITE_MATTER,
    Tissue.DEEP_GREY,
    Tissue.LESION,
)
BONE_TISSUES = (Tissue.CORTICAL_BONE, Tissue.DIPLOE)


@dataclasses.dataclass(frozen=True)
class TissueProperties:
    """Physical properties of one tissue.

    Attributes:
        hu: CT attenuation in Hounsfield units.
        pd: proton density, 0..1.
        t1_ms: longitudinal relaxation time at 1.5 T.
        t2_ms: transverse relaxation time.
    """

    hu: float
    pd: float
    t1_ms: float
    t2_ms: float


# Bone and air have (almost) no MR signal: that is what makes MR->CT synthesis hard for real.
TISSUE_PROPERTIES: dict[Tissue, TissueProperties] = {
    Tissue.AIR: TissueProperties(hu=-1000.0, pd=0.0, t1_ms=1000.0, t2_ms=1.0),
    Tissue.SCALP: TissueProperties(hu=50.0, pd=0.8, t1_ms=900.0, t2_ms=47.0),
    Tissue.FAT: TissueProperties(hu=-100.0, pd=1.0, t1_ms=350.0, t2_ms=70.0),
    Tissue.CORTICAL_BONE: TissueProperties(hu=1500.0, pd=0.05, t1_ms=1000.0, t2_ms=1.0),
    Tissue.DIPLOE: TissueProperties(hu=500.0, pd=0.55, t1_ms=380.0, t2_ms=60.0),
    Tissue.CSF: TissueProperties(hu=8.0, pd=1.0, t1_ms=2569.0, t2_ms=329.0),
    Tissue.VENTRICLE: TissueProperties(hu=8.0, pd=1.0, t1_ms=2569.0, t2_ms=329.0),
    Tissue.GREY_MATTER: TissueProperties(hu=40.0, pd=0.86, t1_ms=833.0, t2_ms=83.0),
    Tissue.WHITE_MATTER: TissueProperties(hu=28.0, pd=0.77, t1_ms=500.0, t2_ms=70.0),
    Tissue.DEEP_GREY: TissueProperties(hu=37.0, pd=0.82, t1_ms=700.0, t2_ms=76.0),
    Tissue.SINUS: TissueProperties(hu=-1000.0, pd=0.0, t1_ms=1000.0, t2_ms=1.0),
    Tissue.EYE: TissueProperties(hu=10.0, pd=1.0, t1_ms=3000.0, t2_ms=300.0),
    # Placeholder: the lesion's own properties come from LESION_PROPERTIES per type.
    Tissue.LESION: TissueProperties(hu=28.0, pd=0.77, t1_ms=500.0, t2_ms=70.0),
}


class LesionType(enum.StrEnum):
    """Lesion kinds whose conspicuity differs between CT and MR."""

    CALCIFIED = "calcified"  # bright on CT, dark/faint on MR
    OEDEMA = "oedema"  # faint hypodense on CT, bright on T2, dark-ish on T1
    HAEMORRHAGE = "haemorrhage"  # bright on CT (60-90 HU), variable on MR
    # Late subacute haematoma (1-3 weeks, extracellular methaemoglobin): it has become isodense
    # on CT while methaemoglobin shortens T1, so it is the classic lesion MR (T1-bright) sees and CT misses.
    SUBACUTE = "subacute-haemorrhage"

    @classmethod
    def parse(cls, value: str) -> LesionType:
        """The member named ``value``; the error lists the allowed names."""
        try:
            return cls(str(value).lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown lesion type {value!r}; choose one of: {allowed} (or 'random')") from None


def sample_lesion_properties(kind: LesionType, rng: np.random.Generator) -> TissueProperties:
    """Draw one lesion's properties (a little variation within each type).

    Args:
        kind: the lesion type.
        rng: random generator (consumed).

    Returns:
        The lesion's HU, PD, T1 and T2.
    """
    if kind is LesionType.CALCIFIED:
        # Small calcifications are faint on spin-echo MR (slightly dark): mostly tissue, some short T2.
        return TissueProperties(hu=float(rng.uniform(250, 900)), pd=0.72, t1_ms=520.0, t2_ms=float(rng.uniform(55, 65)))
    if kind is LesionType.OEDEMA:
        return TissueProperties(
            hu=float(rng.uniform(12, 18)), pd=0.92, t1_ms=1300.0, t2_ms=float(rng.uniform(160, 220))
        )
    if kind is LesionType.SUBACUTE:
        return TissueProperties(
            hu=float(rng.uniform(30, 40)),
            pd=0.9,
            t1_ms=float(rng.uniform(380, 450)),
            t2_ms=float(rng.uniform(180, 250)),
        )
    # Haemorrhage: subacute blood may be bright or iso on T1, bright or dark on T2.
    t1 = float(rng.choice([350.0, 800.0]))
    t2 = float(rng.choice([40.0, 160.0]))
    return TissueProperties(hu=float(rng.uniform(60, 90)), pd=0.85, t1_ms=t1, t2_ms=t2)


def spin_echo_signal(props: TissueProperties, *, tr_ms: float, te_ms: float, t1_scale: float = 1.0) -> float:
    """Spin-echo signal ``PD * (1 - exp(-TR/T1)) * exp(-TE/T2)`` of one tissue.

    Args:
        props: the tissue.
        tr_ms: repetition time.
        te_ms: echo time.
        t1_scale: multiplies T1 (longer T1 at higher field strength).

    Returns:
        Signal in 0..1 (arbitrary units before scanner scaling).
    """
    t1 = props.t1_ms * t1_scale
    return float(props.pd * (1.0 - np.exp(-tr_ms / t1)) * np.exp(-te_ms / props.t2_ms))
