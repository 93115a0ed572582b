"""The drift measures against an independent computation (scipy), the Evidently case, and the noise floors.

The floors are checked for what they claim: they shrink with the sample, they are reproducible, and about
5% of fresh samples of the baseline's own distribution exceed the 95% floor, so a small sample is not
called drift and a real shift on a large one is.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import chebyshev, jensenshannon
from scipy.stats import entropy

from components.monitor.measures import MEASURES, PSEUDO_COUNT, measures, measures_many, noise_floors, shares

# Decile-like training bins: a feature's 10 interior bins plus underflow and overflow, 470,000 rows.
TRAINING = np.array([120_000, 95_000, 80_000, 70_000, 60_000, 50_000, 40_000, 30_000, 20_000, 15_000, 8_000, 2_000])

# Hand-built (expected, observed) bin counts: empty bins on either side, and an "unseen" bin empty in expected.
CASES = {
    "no empty bin": ([40, 30, 20, 10], [25, 35, 25, 15]),
    "empty in observed": ([10, 0, 30, 60, 0], [0, 5, 40, 50, 7]),
    "empty in expected": ([0, 50, 50], [5, 45, 50]),
    "unseen category": ([980, 720, 300, 0, 0], [465, 342, 143, 50, 0]),
    "one bin each": ([100, 0], [0, 3]),
}


@pytest.mark.parametrize("expected, observed", CASES.values(), ids=CASES.keys())
def test_measures_match_scipy(expected: list[int], observed: list[int]) -> None:
    e, o = np.array(expected, dtype=float), np.array(observed, dtype=float)
    smooth_e, smooth_o = e + PSEUDO_COUNT, o + PSEUDO_COUNT  # scipy normalises the counts itself
    reference = {
        # PSI = sum (q - p) ln(q / p) = KL(q||p) + KL(p||q).
        "psi": entropy(smooth_o, smooth_e) + entropy(smooth_e, smooth_o),
        "kl": max(entropy(smooth_e, smooth_o), entropy(smooth_o, smooth_e)),
        # jensenshannon is the distance, the square root of the divergence.
        "js": jensenshannon(e / e.sum(), o / o.sum(), base=2) ** 2,
        "linf": chebyshev(e / e.sum(), o / o.sum()),
    }
    assert measures(e, o) == pytest.approx(reference, rel=1e-12, abs=0)


def test_five_percent_unseen_is_caught_by_the_larger_kl_direction() -> None:
    # Evidently's case: 5% of served traffic in a category training never saw (the unseen bin).
    training = np.array([98_000, 72_000, 30_000, 0, 0])  # three islands, unseen, missing
    served = np.array([4_655, 3_420, 1_425, 500, 0])
    p, q = shares(training, smooth=True), shares(served, smooth=True)
    kl_expected_observed = float((p * np.log(p / q)).sum())
    found = measures(training, served)
    assert found["kl"] > 0.1 and found["psi"] > 0.1
    assert kl_expected_observed < 0.06 and found["kl"] > 5 * kl_expected_observed


def test_noise_floors_shrink_with_the_sample() -> None:
    small, medium, large = (noise_floors(TRAINING, rows) for rows in (200, 20_000, 2_000_000))
    for m in MEASURES:
        assert small[m] > medium[m] > large[m] > 0, m


def test_noise_floors_are_reproducible_by_seed() -> None:
    assert noise_floors(TRAINING, 5_000, seed=3) == noise_floors(TRAINING, 5_000, seed=3)
    assert noise_floors(TRAINING, 5_000, seed=3) != noise_floors(TRAINING, 5_000, seed=4)


@pytest.mark.parametrize("rows", [200, 2_000])
def test_about_five_percent_of_fresh_samples_exceed_the_95_percent_floor(rows: int) -> None:
    floors = noise_floors(TRAINING, rows, quantile=0.95, seed=0)
    served = np.random.default_rng(1).multinomial(rows, shares(TRAINING, smooth=False), size=200)
    found = measures_many(TRAINING, served)
    for m in MEASURES:
        assert 0.01 <= (found[m] > floors[m]).mean() <= 0.11, m


def test_a_small_baseline_widens_the_floor_to_its_own_sampling() -> None:
    # The baseline is a sample too (penguins' eval split has 62 rows): fresh pairs of a baseline-sized
    # sample and a served sample, both from its shares, exceed the 95% floor about 5% of the time.
    baseline = np.array([27, 22, 13])
    floors = noise_floors(baseline, 2_000, quantile=0.95, seed=0)
    rng = np.random.default_rng(1)
    p = shares(baseline, smooth=False)
    found = measures_many(rng.multinomial(baseline.sum(), p, size=200), rng.multinomial(2_000, p, size=200))
    for m in MEASURES:
        assert 0.01 <= (found[m] > floors[m]).mean() <= 0.11, m
    assert noise_floors(baseline, 2_000)["psi"] > 3 * noise_floors(baseline * 10_000, 2_000)["psi"]


def _shifted(rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Training counts, and `rows` served counts with 10% of all the mass moved from bin 0 to bin 1."""
    training = np.array([80_000, 60_000, 40_000, 20_000])  # shares 0.4, 0.3, 0.2, 0.1
    return training, np.array([0.3, 0.4, 0.2, 0.1]) * rows


def test_a_real_shift_on_a_large_sample_is_above_every_floor() -> None:
    training, served = _shifted(100_000)
    found, floors = measures(training, served), noise_floors(training, 100_000)
    for m in MEASURES:
        assert found[m] > floors[m], m


def test_the_same_shift_on_a_small_sample_is_not_above_the_psi_floor() -> None:
    training, served = _shifted(100)
    assert measures(training, served)["psi"] < noise_floors(training, 100)["psi"]


@pytest.mark.parametrize("expected, observed, message", [
    ([3, 4], [0, 0], "no observed rows"),
    ([0, 0], [3, 4], "no expected rows"),
    ([3, 4], [1, 2, 3], "expected has 2 bins, observed 3"),
    ([3, -1], [1, 2], "negative counts in the expected bins"),
    ([3, 4], [1, -2], "negative counts in the observed bins"),
    ([3, 4], [[1, 2], [2, 1]], "1-D counts"),
], ids=["no observed", "no expected", "lengths", "negative expected", "negative observed", "2-D"])
def test_bad_counts_raise(expected: list, observed: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measures(np.array(expected), np.array(observed))


def test_a_single_bin_gives_zero_for_every_measure() -> None:
    assert measures(np.array([7]), np.array([3])) == {m: 0.0 for m in MEASURES}


def test_shares_smooth_adds_the_pseudo_count_to_every_bin() -> None:
    np.testing.assert_allclose(shares(np.array([0, 1, 3]), smooth=True), np.array([0.5, 1.5, 3.5]) / 5.5)
    np.testing.assert_allclose(shares(np.array([0, 1, 3]), smooth=False), np.array([0, 1, 3]) / 4)


def test_measures_is_measures_many_on_one_row() -> None:
    expected, observed = CASES["unseen category"]
    many = measures_many(np.array(expected), np.array([observed]))
    assert measures(np.array(expected), np.array(observed)) == {m: float(v[0]) for m, v in many.items()}
