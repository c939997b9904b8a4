"""Mutual-information registration with SimpleITK: rigid (multi-start), affine and B-spline modes.

Pipeline: input checks -> head masks -> initialisation (as acquired, head centres or image centres,
chosen from the scans: :mod:`fusion_core.registration.initialisation`) -> short coarse-level runs
from several initial rotations -> the best few ("finalists") optimised through every level but the
finest, best metric wins (so a wrong local optimum is caught, not returned) -> finest level ->
optional affine or B-spline stage. Regular-step gradient descent; rotation scales from the head's
radius (the physical shift of a point on the head), learning rate estimated from a maximum step in mm.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import SimpleITK as sitk

from fusion_core.preprocess.resample import resample_to
from fusion_core.registration.checks import check_pair
from fusion_core.registration.errors import RegistrationError
from fusion_core.registration.initialisation import (
    InitialisationChoice,
    StartingPoint,
    choose_initialisation,
    initialisation_note,
)
from fusion_core.registration.masks import head_coverage, head_mask_array, head_mask_image, mask_image, overlap_mask
from fusion_core.registration.options import MaskMode, RegistrationMode, RegistrationOptions
from fusion_core.registration.progress import ProgressFn, ProgressTracker
from fusion_core.volume import Volume


@dataclasses.dataclass(frozen=True, eq=False)
class RegistrationResult:
    """What a registration produced, and how.

    Attributes:
        transform: SimpleITK transform mapping fixed physical points to moving physical points
            (ITK convention, like a phantom's ``true_transform``).
        resampled: the moving image resampled onto the fixed grid through ``transform``.
        metric_history: Mattes metric (negative MI: lower is better) per iteration of the winning
            start and the refinement levels.
        stop_reason: the optimizer's stop condition at the last stage.
        seconds: wall time.
        options: the options used.
        initial_transform: the transform the optimisation started from (after initialisation).
        start_metrics: for each multi-start rotation, ``{"rotation_deg": (rx, ry, rz), "metric": m,
            "final_metric": m or None}`` (final_metric: after all but the finest level, for the finalists).
        level_starts: index into ``metric_history`` where each stage/level begins.
        initialisation: where the optimisation started (as acquired, head centres, image centres) and why.
        coverage: fraction (0 to 1) of the fixed image's head inside the moving image's field of view
            once registered (the whole image when no head was found): how much of the head both saw.
    """

    transform: sitk.Transform
    resampled: Volume
    metric_history: list[float]
    stop_reason: str
    seconds: float
    options: RegistrationOptions
    initial_transform: sitk.Transform
    start_metrics: list[dict[str, Any]]
    level_starts: list[int]
    initialisation: InitialisationChoice
    coverage: float

    @property
    def final_metric(self) -> float:
        return self.metric_history[-1] if self.metric_history else float("nan")

    @property
    def initialisation_note(self) -> str:
        """One plain sentence: where the registration started, why, and how much of the head both scans saw."""
        note = initialisation_note(self.initialisation)
        if self.coverage < COMPLETE_COVERAGE:
            note += (
                f" The moving scan covers {self.coverage:.0%} of the fixed scan's head; it was aligned on that part."
            )
        return note


#: A head covered at least this much counts as seen whole (no partial-view sentence).
COMPLETE_COVERAGE = 0.98


@dataclasses.dataclass
class _Inputs:
    """SimpleITK images and masks shared by every stage."""

    fixed: sitk.Image
    moving: sitk.Image
    fixed_mask: sitk.Image | None
    moving_mask: sitk.Image | None
    options: RegistrationOptions
    tracker: ProgressTracker
    radius_mm: float = 80.0  # typical distance of the anatomy from its centre: sets rotation scales
    base_shrink: int = 1  # images already shrunk by this factor (the multi-start's coarse copies)


def register(
    fixed: Volume, moving: Volume, *, progress: ProgressFn | None = None, **options: Any
) -> RegistrationResult:
    """Register ``moving`` onto ``fixed`` by maximising Mattes mutual information.

    Args:
        fixed: reference image (typically CT).
        moving: image to align (typically MR), on its own grid.
        progress: optional ``callable(fraction, message)`` called as the optimizer iterates.
        **options: fields of :class:`RegistrationOptions` (``mode="rigid"|"affine"|"bspline"``,
            ``sampling``, ``levels``, ``multi_start_deg``, ...).

    Returns:
        A :class:`RegistrationResult`.

    Raises:
        RegistrationError: the inputs cannot be registered (names the problem).
        ValueError: an unknown option value (lists the allowed values).
    """
    opts = RegistrationOptions(**options)
    check_pair(fixed, moving)
    start = time.perf_counter()
    # The optimiser runs on working copies no finer than the other image (full-size CTs); the
    # transform is physical, so the result is resampled from the original images below.
    work_fixed, work_moving = _working_grid(fixed, moving), _working_grid(moving, fixed)
    heads = _head_arrays(work_fixed, work_moving, opts)
    choice = choose_initialisation(work_fixed, work_moving, opts.initialization, heads)
    inputs = _prepare(work_fixed, work_moving, opts, progress, heads)
    try:
        initial = _initial_transform(work_fixed, work_moving, inputs, choice.used)
        _keep_to_overlap(inputs, work_fixed, work_moving, initial)
        transform, history, level_starts, starts, stop = _rigid_stage(inputs, initial)
        if opts.mode is not RegistrationMode.RIGID:
            transform, stop = _extra_stage(inputs, transform, history, level_starts)
    except RuntimeError as error:
        raise RegistrationError(f"SimpleITK registration failed: {_first_line(error)}") from error
    inputs.tracker.done(f"done: {stop}")
    coverage = _coverage(work_fixed, work_moving, heads, transform)
    del inputs, work_fixed, work_moving  # free the working copies before the resampled volume is made
    return RegistrationResult(
        transform=transform,
        resampled=resample_to(moving, fixed, transform=transform),
        metric_history=history,
        stop_reason=stop,
        seconds=time.perf_counter() - start,
        options=opts,
        initial_transform=initial,
        start_metrics=starts,
        level_starts=level_starts,
        initialisation=choice,
        coverage=coverage,
    )


def register_rigid(
    fixed: Volume, moving: Volume, *, progress: ProgressFn | None = None, **options: Any
) -> RegistrationResult:
    """Rigid (6 degrees of freedom) registration: :func:`register` with ``mode="rigid"``."""
    if "mode" in options:
        raise TypeError("register_rigid() is always rigid; use register(..., mode=...) for other modes")
    return register(fixed, moving, progress=progress, mode=RegistrationMode.RIGID, **options)


#: Above this many voxels an image is registered on a coarser working grid (integer bin-averaging down
#: to no finer than the other image's finest spacing). A 512x512x400 CT at 0.45 mm registered against a
#: 1 mm MR otherwise makes ITK hold several float copies of it (peak 5.6x its size), for no accuracy
#: the MR could give. Below it (every phantom, most MRs) nothing changes.
MAX_WORKING_VOXELS = 32 * 2**20


def _working_grid(volume: Volume, other: Volume) -> Volume:
    """``volume`` bin-averaged by integer factors to no finer than ``other``'s finest spacing, when it
    has more than :data:`MAX_WORKING_VOXELS` voxels; else ``volume`` itself."""
    if volume.array.size <= MAX_WORKING_VOXELS:
        return volume
    target = min(other.spacing)
    factors = [max(1, int(target // spacing)) for spacing in volume.spacing]
    if factors == [1, 1, 1]:
        return volume
    shrunk = sitk.BinShrink(volume.to_sitk(), factors)
    return Volume.from_sitk(shrunk, modality=volume.modality, name=volume.name)


def _head_arrays(fixed: Volume, moving: Volume, opts: RegistrationOptions) -> tuple[np.ndarray, np.ndarray] | None:
    """Both head masks; None when registering without masks and one is empty (an empty mask is an
    error when the metric needs it)."""
    try:
        return tuple(head_mask_array(v, ct_threshold_hu=opts.ct_threshold_hu) for v in (fixed, moving))
    except RegistrationError:
        if opts.mask is MaskMode.AUTO:
            raise
        return None


def _prepare(
    fixed: Volume,
    moving: Volume,
    opts: RegistrationOptions,
    progress: ProgressFn | None,
    heads: tuple[np.ndarray, np.ndarray] | None,
) -> _Inputs:
    masks = (None, None)
    if opts.mask is MaskMode.AUTO:
        masks = tuple(mask_image(v, head) for v, head in zip((fixed, moving), heads, strict=True))
    n_starts = len(_start_rotations(opts))
    n_mid = max(1, len(opts.levels) - 1) * min(opts.finalists, n_starts)
    n_final = (len(opts.levels) > 1) + (2 if opts.mode is not RegistrationMode.RIGID else 0)
    weights = [0.1 / n_starts] * n_starts + [0.5 / n_mid] * n_mid + [0.4 / max(1, n_final)] * n_final
    foreground = sitk.GetArrayViewFromImage(masks[0]) > 0 if masks[0] is not None else None
    return _Inputs(
        radius_mm=_radius_mm(fixed, foreground),
        fixed=_float32_image(fixed),
        moving=_float32_image(moving),
        fixed_mask=masks[0],
        moving_mask=masks[1],
        options=opts,
        tracker=ProgressTracker(progress, weights),
    )


def _float32_image(volume: Volume) -> sitk.Image:
    """The volume as a float32 SimpleITK image (Volume arrays are float32 already: no second copy)."""
    image = volume.to_sitk()
    return image if image.GetPixelID() == sitk.sitkFloat32 else sitk.Cast(image, sitk.sitkFloat32)


def _radius_mm(fixed: Volume, foreground: np.ndarray | None) -> float:
    """RMS distance (mm) of the foreground voxels (all voxels when None) from their centroid."""
    # A strided subsample is plenty for an RMS radius; np.argwhere of a full-size CT's head mask would
    # allocate 24 bytes per foreground voxel (about 1 GB for a 512x512x400 CT).
    stride = max(1, round((fixed.array.size / 2e6) ** (1 / 3)))
    mask = foreground[::stride, ::stride, ::stride] if foreground is not None else None
    zyx = np.argwhere(mask) if mask is not None else np.indices(_strided_shape(fixed.shape, stride)).reshape(3, -1).T
    zyx = zyx * stride
    step = max(1, len(zyx) // 20000)
    points = fixed.index_to_physical(zyx[::step, ::-1].astype(np.float64))
    return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))


def _strided_shape(shape: tuple[int, ...], stride: int) -> tuple[int, ...]:
    return tuple(-(-n // stride) for n in shape)


def _initial_transform(fixed: Volume, moving: Volume, inputs: _Inputs, used: StartingPoint) -> sitk.Euler3DTransform:
    """Euler transform centred on the fixed head (else image), translated as ``used`` says."""
    has_heads = inputs.fixed_mask is not None or used is StartingPoint.HEAD_CENTRES
    if used is StartingPoint.IMAGE_CENTRES or (used is StartingPoint.AS_ACQUIRED and not has_heads):
        images, how = (inputs.fixed, inputs.moving), sitk.CenteredTransformInitializerFilter.GEOMETRY
    else:
        # Moments of the head masks: raw HU would weigh air (-1000) negatively.
        threshold = inputs.options.ct_threshold_hu
        f_mask = (
            inputs.fixed_mask if inputs.fixed_mask is not None else head_mask_image(fixed, ct_threshold_hu=threshold)
        )
        m_mask = (
            inputs.moving_mask if inputs.moving_mask is not None else head_mask_image(moving, ct_threshold_hu=threshold)
        )
        same_type = f_mask.GetPixelID() == m_mask.GetPixelID()  # binary masks: no float copies needed
        images = (f_mask, m_mask) if same_type else tuple(sitk.Cast(m, sitk.sitkFloat32) for m in (f_mask, m_mask))
        how = sitk.CenteredTransformInitializerFilter.MOMENTS
    transform = sitk.Euler3DTransform(sitk.CenteredTransformInitializer(*images, sitk.Euler3DTransform(), how))
    if used is StartingPoint.AS_ACQUIRED:  # keep the centre (rotations about the head), drop the shift
        transform.SetTranslation((0.0, 0.0, 0.0))
    return transform


def _keep_to_overlap(inputs: _Inputs, fixed: Volume, moving: Volume, initial: sitk.Transform) -> None:
    """Restrict the fixed mask to the part of the fixed image the moving one sees from the start, when
    that is not all of it (a partial field of view): the metric then samples where both have data."""
    if inputs.fixed_mask is None:
        return
    in_view = overlap_mask(fixed, moving, initial)
    head = sitk.GetArrayViewFromImage(inputs.fixed_mask) > 0
    if head_coverage(head, in_view) >= COMPLETE_COVERAGE:
        return
    inputs.fixed_mask = mask_image(fixed, head & in_view, dilate_voxels=0)


def _coverage(fixed: Volume, moving: Volume, heads, transform: sitk.Transform) -> float:
    """Fraction of the fixed head (whole image when none) inside the moving field of view under ``transform``."""
    head = heads[0] if heads is not None else np.ones(fixed.shape, bool)
    return head_coverage(head, overlap_mask(fixed, moving, transform))


def _start_rotations(opts: RegistrationOptions) -> list[tuple[float, float, float]]:
    """Initial rotations (degrees about x, y, z) of the multi-start: none, then +/- each axis."""
    starts = [(0.0, 0.0, 0.0)]
    if opts.multi_start_deg > 0:
        for axis in range(3):
            for sign in (1, -1):
                angles = [0.0, 0.0, 0.0]
                angles[axis] = sign * opts.multi_start_deg
                starts.append(tuple(angles))
    return starts


def _usable_shrinks(image: sitk.Image, shrinks: tuple[int, ...]) -> list[int]:
    """Cap shrink factors so the smallest axis keeps at least 8 voxels (tiny test images)."""
    cap = max(1, min(image.GetSize()) // 8)
    return [max(1, min(s, cap)) for s in shrinks]


def _method(
    inputs: _Inputs,
    shrinks,
    smoothing,
    *,
    iterations: int,
    physical_scales: bool = True,
    rigid_radius_mm: float | None = None,
) -> sitk.ImageRegistrationMethod:
    """A configured Mattes-MI registration method (optimizer set by the caller)."""
    opts = inputs.options
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=opts.bins)
    method.SetMetricSamplingStrategy(method.REGULAR if opts.regular_sampling else method.RANDOM)
    shrinks = _usable_shrinks(inputs.fixed, shrinks)
    percentages = [min(1.0, opts.sampling * (s * inputs.base_shrink) ** 2) for s in shrinks]
    method.SetMetricSamplingPercentagePerLevel(percentages, opts.seed + 1)  # ITK reads seed 0 as "wall clock"
    method.SetInterpolator(sitk.sitkLinear)
    if inputs.fixed_mask is not None:
        method.SetMetricFixedMask(inputs.fixed_mask)
    if inputs.moving_mask is not None:
        method.SetMetricMovingMask(inputs.moving_mask)
    method.SetShrinkFactorsPerLevel(shrinks)
    method.SetSmoothingSigmasPerLevel(list(smoothing))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=1.0,
        minStep=opts.min_step,
        numberOfIterations=iterations,
        relaxationFactor=opts.relaxation,
        gradientMagnitudeTolerance=1e-8,
        estimateLearningRate=method.Once,
        maximumStepSizeInPhysicalUnits=opts.max_step_mm,
    )
    if rigid_radius_mm is not None:
        # Physical shift of a point on the head's surface: 1 rad moves it by about the head radius.
        # (SimpleITK's estimate uses the whole field of view, which under-steps rotations.)
        method.SetOptimizerScales([rigid_radius_mm**2] * 3 + [1.0] * 3)
    elif physical_scales:  # LBFGSB (B-spline stage) does not support scales
        method.SetOptimizerScalesFromPhysicalShift()
    return method


def _execute(
    method: sitk.ImageRegistrationMethod, inputs: _Inputs, phase: int, label: str, max_iterations: int
) -> tuple[list[float], list[int], float]:
    """Run ``method``; return its metric history, level start indices and final metric."""
    history: list[float] = []
    level_starts: list[int] = []

    def on_level() -> None:
        level_starts.append(len(history))
        inputs.tracker.begin(
            phase + method.GetCurrentLevel(), f"{label} (level {method.GetCurrentLevel() + 1})", max_iterations
        )

    def on_iteration() -> None:
        history.append(method.GetMetricValue())
        inputs.tracker.step(method.GetOptimizerIteration(), history[-1])

    method.AddCommand(sitk.sitkMultiResolutionIterationEvent, on_level)
    method.AddCommand(sitk.sitkIterationEvent, on_iteration)
    method.Execute(inputs.fixed, inputs.moving)
    return history, level_starts, method.GetMetricValue()


def _coarse_copy(inputs: _Inputs) -> _Inputs:
    """Images and masks smoothed and shrunk once to the coarsest level, shared by every start."""
    shrink = _usable_shrinks(inputs.fixed, inputs.options.levels[:1])[0]
    sigma = inputs.options.smoothing[0]

    def reduce(image: sitk.Image | None, smooth: bool) -> sitk.Image | None:
        if image is None:
            return None
        if smooth and sigma > 0:
            image = sitk.SmoothingRecursiveGaussian(image, [sigma * sp for sp in image.GetSpacing()])
        return sitk.Shrink(image, [shrink] * 3)

    return dataclasses.replace(
        inputs,
        fixed=reduce(inputs.fixed, True),
        moving=reduce(inputs.moving, True),
        fixed_mask=reduce(inputs.fixed_mask, False),
        moving_mask=reduce(inputs.moving_mask, False),
        base_shrink=shrink,
    )


def _coarse_run(coarse: _Inputs, transform: sitk.Euler3DTransform, iterations: int, phase: int, label: str):
    """Optimise ``transform`` in place on the pre-shrunk images; returns (history, final metric)."""
    method = _method(coarse, (1,), (0.0,), iterations=iterations, rigid_radius_mm=coarse.radius_mm)
    method.SetInitialTransform(transform, inPlace=True)
    history, _, metric = _execute(method, coarse, phase, label, iterations)
    return history, float(metric)


def _pyramid_run(inputs: _Inputs, transform, levels, smoothing, phase: int, label: str):
    """Optimise ``transform`` in place through the given pyramid levels of the full images.

    Returns:
        (history, level start indices, final metric, stop condition).
    """
    opts = inputs.options
    method = _method(inputs, levels, smoothing, iterations=opts.iterations, rigid_radius_mm=inputs.radius_mm)
    method.SetInitialTransform(transform, inPlace=True)
    history, starts, metric = _execute(method, inputs, phase, label, opts.iterations)
    return history, starts, float(metric), method.GetOptimizerStopConditionDescription()


def _rigid_stage(inputs: _Inputs, initial: sitk.Euler3DTransform):
    """Multi-start rigid registration.

    Short runs from several initial rotations on pre-shrunk images; the best ``finalists`` are each
    optimised through every level but the finest (a wrong basin shows there as a clearly worse
    metric); the winner is refined at the finest level.
    """
    opts = inputs.options
    coarse = _coarse_copy(inputs)
    runs = []
    for i, angles in enumerate(_start_rotations(opts)):
        transform = sitk.Euler3DTransform(initial)
        transform.SetRotation(*np.deg2rad(angles).tolist())
        history, metric = _coarse_run(coarse, transform, opts.coarse_iterations, i, f"start {i + 1} rot {angles}")
        runs.append({"rotation_deg": angles, "metric": metric, "transform": transform, "history": history})
    mid_levels, mid_smoothing = (
        (opts.levels[:-1], opts.smoothing[:-1]) if len(opts.levels) > 1 else (opts.levels, opts.smoothing)
    )
    finalists = sorted(runs, key=lambda run: run["metric"])[: opts.finalists]
    for k, run in enumerate(finalists):
        phase = len(runs) + k * len(mid_levels)
        extra, starts, run["final_metric"], _ = _pyramid_run(
            inputs, run["transform"], mid_levels, mid_smoothing, phase, f"finalist {k + 1}"
        )
        run["level_starts"] = [0] + [len(run["history"]) + i for i in starts]
        run["history"] = run["history"] + extra
    best = min(finalists, key=lambda run: run["final_metric"])
    transform, history, level_starts = best["transform"], best["history"], best["level_starts"]
    stop = "multi-resolution levels done"
    if len(opts.levels) > 1:
        phase = len(runs) + len(finalists) * len(mid_levels)
        final, _, _, stop = _pyramid_run(
            inputs, transform, opts.levels[-1:], opts.smoothing[-1:], phase, "finest level"
        )
        level_starts.append(len(history))
        history = history + final
    starts = [
        {k: run[k] for k in ("rotation_deg", "metric")} | {"final_metric": run.get("final_metric")} for run in runs
    ]
    return transform, history, level_starts, starts, stop


def _extra_stage(inputs: _Inputs, rigid: sitk.Euler3DTransform, history: list[float], level_starts: list[int]):
    """Affine or B-spline refinement after the rigid stage; extends ``history`` in place."""
    opts = inputs.options
    n_starts = len(_start_rotations(opts))
    phase = n_starts + max(1, len(opts.levels) - 1) * min(opts.finalists, n_starts) + (len(opts.levels) > 1)
    if opts.mode is RegistrationMode.AFFINE:
        transform = sitk.AffineTransform(3)
        transform.SetCenter(rigid.GetCenter())
        transform.SetMatrix(rigid.GetMatrix())
        transform.SetTranslation(rigid.GetTranslation())
        method = _method(inputs, (2, 1), (1.0, 0.0), iterations=opts.iterations)
        method.SetInitialTransform(transform, inPlace=True)
    else:
        mesh = [
            max(1, round(n * s / opts.bspline_mesh_mm))
            for n, s in zip(inputs.fixed.GetSize(), inputs.fixed.GetSpacing(), strict=True)
        ]
        transform = sitk.BSplineTransformInitializer(inputs.fixed, mesh)
        method = _method(inputs, (4, 2), (2.0, 1.0), iterations=50, physical_scales=False)
        method.SetOptimizerAsLBFGSB(
            gradientConvergenceTolerance=1e-5, numberOfIterations=50, maximumNumberOfCorrections=5
        )
        method.SetMovingInitialTransform(rigid)
        method.SetInitialTransform(transform, inPlace=True)
    extra, extra_starts, _ = _execute(method, inputs, phase, f"{opts.mode.value} stage", opts.iterations)
    level_starts.extend(len(history) + i for i in extra_starts)
    history.extend(extra)
    stop = method.GetOptimizerStopConditionDescription()
    if opts.mode is RegistrationMode.BSPLINE:
        return sitk.CompositeTransform([rigid, transform]), stop
    return transform, stop


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    description = [line for line in lines if line.lower().startswith("description:")]
    return description[0].split(":", 1)[1].strip() if description else (lines[-1] if lines else repr(error))
