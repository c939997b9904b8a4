from __future__ import annotations

import numpy as np

from fusion_core.data.sdf import SphereNoise, capsule_sd, ellipsoid_radius, ellipsoid_sd, occupancy, smooth_min


def test_occupancy_is_a_ramp_with_the_spread_of_a_voxel():
    h = 2.0
    sd = np.linspace(-3 * h, 3 * h, 60001, dtype=np.float32)
    occ = occupancy(sd, h)
    assert occ.dtype == np.float32 and occ[0] == 1.0 and occ[-1] == 0.0
    assert np.all(np.diff(occ) <= 0)
    np.testing.assert_allclose(occupancy(np.float32([0.0]), h), [0.5])
    density = -np.gradient(occ, sd)  # the edge-spread profile
    variance = np.trapezoid(density * sd.astype(float) ** 2, sd) / np.trapezoid(density, sd)
    np.testing.assert_allclose(variance, h**2 / 12, rtol=1e-3)


def test_ellipsoid_sd_is_exact_on_a_sphere_and_signed():
    x = np.array([0.0, 5.0, 13.0], dtype=np.float32)
    zero = np.zeros_like(x)
    np.testing.assert_allclose(ellipsoid_sd(x, zero, zero, (10.0, 10.0, 10.0)), [-10.0, -5.0, 3.0], atol=1e-4)
    assert ellipsoid_sd(np.float32(0), np.float32(19.0), np.float32(0), (5.0, 20.0, 5.0)) < 0


def test_capsule_radius_tapers_along_the_segment():
    zero = np.zeros(2, dtype=np.float32)
    y = np.array([0.0, 10.0], dtype=np.float32)
    x = np.array([4.0, 4.0], dtype=np.float32)
    sd = capsule_sd(x, y, zero, (0, 0, 0), (0, 10, 0), (4.0, 2.0))
    np.testing.assert_allclose(sd, [0.0, 2.0], atol=1e-5)


def test_smooth_min_blends_only_near_equal_distances():
    a, b = np.float32([0.0, 0.0]), np.float32([10.0, 0.0])
    out = smooth_min(a, b, 2.0)
    assert out[0] == 0.0 and out[1] < 0.0


def test_ellipsoid_radius_along_axes():
    u = np.eye(3, dtype=np.float32)
    np.testing.assert_allclose(ellipsoid_radius(u[:, 0], u[:, 1], u[:, 2], (3.0, 4.0, 5.0)), [3.0, 4.0, 5.0], rtol=1e-6)


def test_sphere_noise_is_deterministic_with_unit_scale():
    a = SphereNoise.sample(np.random.default_rng(1), n_terms=8, frequency=3.0)
    b = SphereNoise.sample(np.random.default_rng(1), n_terms=8, frequency=3.0)
    u = np.random.default_rng(2).normal(size=(3, 20000)).astype(np.float32)
    u /= np.linalg.norm(u, axis=0)
    np.testing.assert_array_equal(a(*u), b(*u))
    assert 0.6 < float(a(*u).std()) < 1.4
