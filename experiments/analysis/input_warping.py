r"""Input warping of a Gaussian-process emulator: one Kumaraswamy CDF per factor, chosen by marginal likelihood.

A stationary kernel assumes that the mean outcome varies about as quickly everywhere along a factor.  Many
of the model's factors do not: a monthly chance of noticing trouble (``monitoring_level``, 0 to 0.9 per
month) changes a pilot's fate a lot between 0 and 0.1 and hardly above, a hazard of director changes
saturates, a share of co-funding matters only above some level.  Warping each unit coordinate ``u`` by a
monotone map ``w(u) = 1 - (1 - u^a)^b`` (the Kumaraswamy CDF, a closed-form stand-in for the Beta CDF;
Snoek, Swersky, Zemel & Adams 2014) stretches the part of the range where the outcome changes fast, so the
kernel can be stationary in ``w``.  ``a = b = 1`` is no warp.  The Sobol' indices are still those of the
factors' uniform measure: the emulator is the function ``u -> gp(w(u))``, and the indices are computed on
unit-cube samples of ``u``.

The shapes are chosen per factor from the grid :data:`SHAPES` x :data:`SHAPES` by the GP's log marginal
likelihood with its kernel hyperparameters held at an unwarped fit's values (one coordinate sweep over the
factors, most relevant first; a factor keeps a shape only if it raises the likelihood), and the
hyperparameters are then re-estimated on the warped inputs.  Factors whose length scale exceeds
:data:`INERT_LENGTH_SCALE` are not searched: across the unit interval they change the kernel by less than
0.3%, so their likelihood is flat in the warp.  The likelihood is computed from the scaled squared distances
(:func:`experiments.analysis.gp_likelihood.log_likelihood_of_distances`), updating one factor's share of
them at a time, and is checked against scikit-learn's ``log_marginal_likelihood``
(tests/test_input_warping.py).

Like the hyperparameters, the warps are estimated on all design points and kept in the cross-validation
folds (unless ``cross_validation = "nested"``), which makes that Q^2 optimistic:
benchmarks/bench_emulator_variants.py ``--nested`` re-estimates both inside every fold.  On the all-factors
design (576 points x R = 32, 2 December 2026) the warps raised continuation's fixed-fold Q^2 from 0.866 to
0.898 but lowered its nested one (0.817 unwarped, 0.802 warped): there the gain was selection, not
prediction.

Reference: Snoek, J., Swersky, K., Zemel, R. & Adams, R. P. (2014). Input warping for Bayesian
optimization of non-stationary functions. Proc. 31st ICML, PMLR 32(2), 1674-1682.
"""

from __future__ import annotations

import numpy as np

from experiments.analysis.gp_likelihood import log_likelihood_of_distances

#: The shapes a and b searched for every factor (dimensionless); a < 1 or b > 1 stretches the low end of
#: the range, a > 1 or b < 1 the high end.
SHAPES = (0.33, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)

#: Factors with a longer length scale (unit coordinates) than this are left unwarped.
INERT_LENGTH_SCALE = 20.0


def kumaraswamy(u: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Warp unit coordinates ``u`` (n, d) factor by factor: ``1 - (1 - u^a)^b`` with ``shapes`` (d, 2) = (a, b);
    factors of shape (1, 1) are returned exactly as they are."""
    u = np.clip(np.asarray(u, float), 0.0, 1.0)
    shapes = np.asarray(shapes, float)
    warped = (shapes != 1.0).any(axis=1)
    u[:, warped] = 1.0 - (1.0 - u[:, warped] ** shapes[warped, 0]) ** shapes[warped, 1]
    return u


def _squared_distances(column: np.ndarray, length_scale: float) -> np.ndarray:
    scaled = column / length_scale
    return (scaled[:, None] - scaled[None, :]) ** 2


def choose_warps(u: np.ndarray, z: np.ndarray, alpha: np.ndarray, amplitude: float,
                 length_scales: np.ndarray) -> np.ndarray:
    """Kumaraswamy shapes (d, 2) for design ``u`` (n, d), standardised outcomes ``z`` and nugget ``alpha``, at
    the kernel's ``amplitude`` and per-factor ``length_scales`` (see the module docstring)."""
    u = np.asarray(u, float)
    d = u.shape[1]
    shapes = np.ones((d, 2))
    length_scales = np.broadcast_to(np.asarray(length_scales, float), (d,))
    parts = [_squared_distances(u[:, j], length_scales[j]) for j in range(d)]
    total = np.sum(parts, axis=0)
    best = log_likelihood_of_distances(total, z, amplitude, alpha)
    grid = [(a, b) for a in SHAPES for b in SHAPES if (a, b) != (1.0, 1.0)]
    for j in np.argsort(length_scales):
        if length_scales[j] > INERT_LENGTH_SCALE:
            continue
        others = total - parts[j]
        for a, b in grid:
            part = _squared_distances(kumaraswamy(u[:, [j]], [[a, b]])[:, 0], length_scales[j])
            value = log_likelihood_of_distances(others + part, z, amplitude, alpha)
            if value > best:
                best, shapes[j], parts[j] = value, (a, b), part
        total = others + parts[j]
    return shapes


__all__ = ["INERT_LENGTH_SCALE", "SHAPES", "choose_warps", "kumaraswamy"]
