"""The app's pages in one list: app.py builds the navigation from it and Home describes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"


@dataclass(frozen=True)
class PageInfo:
    script: str
    title: str
    icon: str
    summary: str
    default: bool = False

    @property
    def url_path(self) -> str:
        # The file's stem: a deep link on a fresh server first resolves against Streamlit's
        # file-based page list (see ui/guard.py), so the two must agree. The default page is "/".
        return "" if self.default else Path(self.script).stem


PAGES: tuple[PageInfo, ...] = (
    PageInfo(
        script="home.py",
        title="Home",
        icon=":material/home:",
        summary="What the app is, who it is for, what each page does.",
        default=True,
    ),
    PageInfo(
        script="data.py",
        title="Data",
        icon=":material/folder_open:",
        summary="Choose the demo cohort, a cohort folder or uploaded files; see each scan's metadata and a "
        "tri-planar viewer with CT window presets, CT and MR slices linked by physical position.",
    ),
    PageInfo(
        script="register_fuse.py",
        title="Register & Fuse",
        icon=":material/join_inner:",
        summary="Align the MR to the CT by mutual information with a live progress bar; check the alignment "
        "(checkerboard, blend, edges, joint histogram, true error in mm on the demo cohort); normalise "
        "intensities and fuse the scans pixel by pixel; download the result.",
    ),
    PageInfo(
        script="generation.py",
        title="Cross-modal Generation",
        icon=":material/swap_horiz:",
        summary="Synthetic CT from MR (and MR from CT) with every trained generator beside the real scan: linked "
        "views, a signed error map in HU, one metrics table for all models and a baseline, the cycle residual, "
        "what only CT can show, a missing-modality what-if and NIfTI/CSV downloads.",
    ),
    PageInfo(
        script="performance.py",
        title="Fusion Performance",
        icon=":material/monitoring:",
        summary="ROC curves of every fusion strategy with bootstrap bands against the theoretical independence "
        "bound; the clinicians' table at an operating point you choose (CSV download); AUC with CT or MR "
        "missing; calibration before and after temperature scaling.",
    ),
    PageInfo(
        script="latents.py",
        title="Latent Space",
        icon=":material/scatter_plot:",
        summary="A UMAP (or PCA, t-SNE) of every slice's latent code from CT alone, MR alone or both, with CT–MR "
        "pair lines; lasso points to see their images, select one for its reconstruction and nearest neighbours; "
        "cross-modal retrieval, modality mixing, label separability and canonical correlations beside the plot.",
    ),
    PageInfo(
        script="attention.py",
        title="Attention & Uncertainty",
        icon=":material/visibility:",
        summary="Click a location on the CT and see which MR regions it attends to (and back); Grad-CAM and "
        "Integrated Gradients of every fusion classifier over CT and MR, checked against the true lesion; "
        "MC-dropout and predicted uncertainty maps; the uncertainty-weighted fusion's weights as a scan degrades.",
    ),
    PageInfo(
        script="learn.py",
        title="Learn",
        icon=":material/school:",
        summary="Interactive teaching demos of why and how fusion works: two detectors and d′, Bayes' odds, "
        "early/intermediate/late fusion, misregistration, normalisation, additive vs tensor fusion, "
        "product of experts with a missing scan, uncertainty weights.",
    ),
)
