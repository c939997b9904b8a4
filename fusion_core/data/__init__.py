"""fusion_core.data: the procedural CT/MR head phantom (the app's embedded default data set).

Public entry points live in :mod:`fusion_core.data.phantom` (``make_subject``, ``make_cohort``,
``PhantomSubject``); the pieces: ``tissues`` (tissue classes and MR physics), ``sites`` (scanner
presets), ``anatomy`` (continuous head model), ``sdf`` (distance primitives), ``render`` and
``acquisition`` (grids, partial volume, noise, bias), ``export`` (cohort folders and the CLI).
"""
