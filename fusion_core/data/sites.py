"""Per-site scanner presets of the phantom: the domain shift between hospitals."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ScannerSite:
    """How one site's CT and MR scanners render the same anatomy.

    Attributes:
        name: site code ("A", "B", ...).
        ct_blur_mm: Gaussian blur sigma of the CT (reconstruction kernel), mm.
        ct_noise_hu: CT noise standard deviation, HU.
        ct_hu_scale: calibration gain applied to HU (around 1).
        ct_hu_offset: calibration offset, HU.
        mr_blur_mm: Gaussian blur sigma of the MR, mm.
        mr_noise: Rician noise sigma as a fraction of the brightest tissue signal.
        mr_bias: strength of the smooth multiplicative bias field (log-amplitude).
        mr_scale: receiver gain (multiplies the 0..1000 intensity scale).
        t1w_tr_ms, t1w_te_ms: TR/TE of the T1-weighted spin echo.
        t2w_tr_ms, t2w_te_ms: TR/TE of the T2-weighted spin echo.
        t1_scale: multiplies tissue T1 (field strength: T1 lengthens at 3 T).
    """

    name: str
    ct_blur_mm: float = 0.7
    ct_noise_hu: float = 6.0
    ct_hu_scale: float = 1.0
    ct_hu_offset: float = 0.0
    mr_blur_mm: float = 0.5
    mr_noise: float = 0.02
    mr_bias: float = 0.15
    mr_scale: float = 1.0
    t1w_tr_ms: float = 500.0
    t1w_te_ms: float = 15.0
    t2w_tr_ms: float = 4000.0
    t2w_te_ms: float = 100.0
    t1_scale: float = 1.0


SITE_PRESETS: dict[str, ScannerSite] = {
    "A": ScannerSite(name="A"),
    "B": ScannerSite(
        name="B",
        ct_blur_mm=1.2,
        ct_noise_hu=9.0,
        ct_hu_offset=4.0,
        mr_blur_mm=0.8,
        mr_noise=0.03,
        mr_bias=0.3,
        mr_scale=0.8,
        t1w_tr_ms=600.0,
        t1w_te_ms=12.0,
        t2w_tr_ms=3500.0,
        t2w_te_ms=90.0,
    ),
    "C": ScannerSite(
        name="C",
        ct_blur_mm=0.5,
        ct_noise_hu=5.0,
        ct_hu_scale=1.03,
        ct_hu_offset=-3.0,
        mr_blur_mm=0.4,
        mr_noise=0.025,
        mr_bias=0.45,
        mr_scale=1.2,
        t1w_tr_ms=450.0,
        t1w_te_ms=10.0,
        t2w_tr_ms=4500.0,
        t2w_te_ms=110.0,
        t1_scale=1.25,  # a 3 T site
    ),
}


def get_site(site: str | ScannerSite) -> ScannerSite:
    """The preset named ``site`` (or ``site`` itself when it is already a ScannerSite).

    Raises:
        ValueError: unknown site name; the message lists the presets.
    """
    if isinstance(site, ScannerSite):
        return site
    key = str(site).upper()
    if key not in SITE_PRESETS:
        raise ValueError(f"unknown site {site!r}; choose one of: {', '.join(SITE_PRESETS)} or pass a ScannerSite")
    return SITE_PRESETS[key]
