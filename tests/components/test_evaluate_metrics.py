"""evaluate's logic: metrics worked out by hand, AUC against a brute-force count, slices, the gate, every refusal."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from components.errors import LooplineInputError
from components.evaluate import metrics
from components.evaluate.decision import Decision, decide
from components.evaluate.metrics import ROC_START_THRESHOLD, classification_metrics, regression_metrics
from components.evaluate.slices import slice_metrics, slices_markdown

CLASSES = ["a", "b", "c"]
# Six rows, three classes; the predicted class (argmax) and whether it is right:
Y = [0, 0, 1, 1, 2, 2]
PROBA = [
    [0.7, 0.2, 0.1],  # a -> a  right
    [0.2, 0.7, 0.1],  # a -> b  wrong
    [0.2, 0.5, 0.3],  # b -> b  right
    [0.1, 0.4, 0.5],  # b -> c  wrong
    [0.1, 0.1, 0.8],  # c -> c  right
    [0.2, 0.2, 0.6],  # c -> c  right
]


def _plain(value: Any) -> bool:
    """True when value is built only of plain Python types (numpy scalars are not: np.float64 is a float)."""
    if type(value) in (dict,):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if type(value) in (list,):
        return all(_plain(v) for v in value)
    return type(value) in (int, float, str, bool, type(None))


def _pairwise_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Brute force: the share of (positive, negative) pairs ranked right, a tie counting 1/2."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


# --- classification: hand-worked --------------------------------------------------------------


def test_hand_worked_three_classes() -> None:
    m = classification_metrics(np.array(Y), np.array(PROBA), CLASSES)
    assert m["count"] == 6 and m["classes"] == CLASSES
    assert m["accuracy"] == pytest.approx(4 / 6)
    # rows true a, b, c; columns predicted a, b, c
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    # precision = tp / predicted: a 1/1, b 1/2, c 2/3; recall = tp / support: a 1/2, b 1/2, c 2/2
    # F1 = 2PR/(P+R): a 2*1*.5/1.5 = 2/3, b 1/2, c 2*(2/3)*1/(5/3) = 4/5
    expected = {"a": (1.0, 0.5, 2 / 3), "b": (0.5, 0.5, 0.5), "c": (2 / 3, 1.0, 0.8)}
    for name, (precision, recall, f1) in expected.items():
        row = m["per_class"][name]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((precision, recall, f1))
        assert row["support"] == 2
    assert m["macro_precision"] == pytest.approx((1 + 0.5 + 2 / 3) / 3)  # 13/18
    assert m["macro_recall"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 4 / 5) / 3)  # 59/90 = 0.6556
    # log loss: mean of -ln p(true class) = -(ln .7 + ln .2 + ln .5 + ln .4 + ln .8 + ln .6) / 6 = 0.7183
    assert m["log_loss"] == pytest.approx(-sum(map(math.log, (0.7, 0.2, 0.5, 0.4, 0.8, 0.6))) / 6)
    # AUC a: positives score .7, .2; negatives .2, .1, .1, .2. Pairs won: .7 beats 4; .2 beats the
    #   two .1s and ties the two .2s (2 + 2*0.5 = 3). 7 of 8 pairs -> 0.875.
    # AUC b: positives .5, .4; negatives .2, .7, .1, .2: each beats 3 of 4 -> 6/8 = 0.75.
    # AUC c: positives .8, .6; negatives .1, .1, .3, .5: all 8 pairs -> 1.0. Macro (0.875+0.75+1)/3.
    assert [m["per_class"][n]["roc_auc"] for n in CLASSES] == pytest.approx([0.875, 0.75, 1.0])
    assert m["macro_roc_auc"] == pytest.approx(0.875)
    # ROC of a: thresholds .7 (tp 1, fp 0), .2 (tp 2, fp 2 of 4), .1 (everything)
    curve = m["roc_curves"]["a"]
    assert curve["fpr"] == pytest.approx([0.0, 0.0, 0.5, 1.0])
    assert curve["tpr"] == pytest.approx([0.0, 0.5, 1.0, 1.0])
    assert curve["thresholds"] == pytest.approx([ROC_START_THRESHOLD, 0.7, 0.2, 0.1])
    assert m["macro_excluded"] == [] and m["roc_auc_excluded"] == [] and m["notes"] == []
    assert _plain(m)
    json.dumps(m, allow_nan=False)


def test_binary_is_k_equals_two() -> None:
    # scikit-learn's roc_auc_score example: y [0, 0, 1, 1], P(class 1) [.1, .4, .35, .8] -> AUC 0.75
    # (positives .35, .8 against negatives .1, .4: .8 beats both, .35 beats .1 only: 3 of 4 pairs).
    p1 = np.array([0.1, 0.4, 0.35, 0.8])
    m = classification_metrics(np.array([0, 0, 1, 1]), np.c_[1 - p1, p1], ["no", "yes"])
    assert m["per_class"]["yes"]["roc_auc"] == pytest.approx(0.75)
    assert m["per_class"]["no"]["roc_auc"] == pytest.approx(0.75)  # the same ranking, reversed
    assert m["macro_roc_auc"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(0.75)  # predicted no, no, no, yes
    assert m["confusion_matrix"] == [[2, 0], [1, 1]]
    curve = m["roc_curves"]["yes"]  # scores descending: .8 P, .4 N, .35 P, .1 N
    assert curve["fpr"] == pytest.approx([0.0, 0.0, 0.5, 0.5, 1.0])
    assert curve["tpr"] == pytest.approx([0.0, 0.5, 0.5, 1.0, 1.0])
    assert curve["thresholds"] == pytest.approx([ROC_START_THRESHOLD, 0.8, 0.4, 0.35, 0.1])


def test_argmax_tie_predicts_the_first_class() -> None:
    m = classification_metrics([1, 0], [[0.5, 0.5], [0.5, 0.5]], ["x", "y"])
    assert m["confusion_matrix"] == [[1, 0], [1, 0]]
    assert m["macro_roc_auc"] == pytest.approx(0.5)  # every score tied


def test_perfect_classifier() -> None:
    y = np.array([0, 1, 2] * 10)
    m = classification_metrics(y, _one_hot(y, 3), CLASSES)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0 and m["macro_roc_auc"] == 1.0
    assert m["log_loss"] == 0.0
    assert m["confusion_matrix"] == [[10, 0, 0], [0, 10, 0], [0, 0, 10]]
    assert m["roc_curves"]["b"]["tpr"][1] == 1.0 and m["roc_curves"]["b"]["fpr"][1] == 0.0


def test_worst_classifiers() -> None:
    y = np.array([0, 1] * 5)
    m = classification_metrics(y, _one_hot(1 - y, 2), ["x", "y"])
    assert m["accuracy"] == 0.0 and m["macro_f1"] == 0.0
    assert m["macro_roc_auc"] == 0.0 and m["per_class"]["x"]["roc_auc"] == 0.0
    assert m["log_loss"] == pytest.approx(-math.log(1e-15))  # every true class had probability 0, clipped
    assert m["roc_curves"]["y"]["fpr"] == [0.0, 1.0, 1.0] and m["roc_curves"]["y"]["tpr"] == [0.0, 0.0, 1.0]
    y3 = np.array([0, 1, 2] * 4)
    m3 = classification_metrics(y3, _one_hot((y3 + 1) % 3, 3), CLASSES)
    assert m3["accuracy"] == 0.0 and m3["macro_recall"] == 0.0 and m3["macro_f1"] == 0.0
    assert all(m3["confusion_matrix"][i][i] == 0 for i in range(3))


def test_class_absent_from_y_true() -> None:
    # c never occurs and is never predicted: no precision/recall/F1/AUC, left out of both macros.
    y = [0, 0, 1, 1]
    proba = [[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.1, 0.5, 0.4]]
    m = classification_metrics(y, proba, CLASSES)
    c = m["per_class"]["c"]
    assert c == {"precision": None, "recall": None, "f1": None, "support": 0, "roc_auc": None}
    assert m["roc_curves"]["c"] is None
    assert m["macro_excluded"] == ["c"] and m["roc_auc_excluded"] == ["c"]
    # a: P 1/1, R 1/2, F1 2/3; b: P 2/3, R 2/2, F1 4/5 -> macro over a and b only
    assert m["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    # AUC a: .8, .3 vs .2, .1 -> 1.0; b: .7, .5 vs .1, .6 -> .7 beats 2, .5 beats 1 -> 3/4
    assert m["macro_roc_auc"] == pytest.approx((1.0 + 0.75) / 2)
    assert any("'c'" in note and "macro_roc_auc" in note for note in m["notes"])
    assert any("'c'" in note and "macro averages" in note for note in m["notes"])
    # Predicting c once (wrongly) makes its precision, recall and F1 defined (0) and counted.
    proba[3] = [0.1, 0.4, 0.5]
    m = classification_metrics(y, proba, CLASSES)
    assert m["per_class"]["c"]["f1"] == 0.0 and m["macro_excluded"] == []
    assert m["per_class"]["c"]["roc_auc"] is None and m["roc_auc_excluded"] == ["c"]


def test_class_in_every_row_has_no_auc() -> None:
    m = classification_metrics([0, 0, 0], [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], ["x", "y"])
    assert m["roc_auc_excluded"] == ["x", "y"]
    assert m["macro_roc_auc"] is None
    assert any("every row" in note and "'x'" in note for note in m["notes"])
    assert m["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 300, 4
    weights = rng.integers(1, 5, size=(n, k)).astype(float)  # few distinct values: many ties
    proba = weights / weights.sum(axis=1, keepdims=True)
    y = rng.integers(0, k, size=n)
    m = classification_metrics(y, proba, list("wxyz"), max_roc_points=10_000)
    for c, name in enumerate("wxyz"):
        expected = _pairwise_auc(y == c, proba[:, c])
        assert m["per_class"][name]["roc_auc"] == pytest.approx(expected, abs=1e-12)
        curve = m["roc_curves"][name]  # uncapped: the trapezoid area is the AUC too
        assert np.trapz(curve["tpr"], curve["fpr"]) == pytest.approx(expected, abs=1e-12)
    assert len(set(proba[:, 0])) < n / 10  # the data really had ties


def test_roc_curve_shape_and_cap() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    y = rng.integers(0, 2, size=n)
    p1 = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    m = classification_metrics(y, np.c_[1 - p1, p1], ["x", "y"])
    for name in ("x", "y"):
        curve = m["roc_curves"][name]
        fpr, tpr, thresholds = (np.array(curve[key]) for key in ("fpr", "tpr", "thresholds"))
        assert len(fpr) == len(tpr) == len(thresholds) == metrics.MAX_ROC_POINTS
        assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
        assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
        assert np.all(np.isfinite(thresholds)) and np.all(np.diff(thresholds) < 0)
        assert thresholds[0] > 1.0 >= thresholds[1]
        # the capped curve still traces the area
        assert np.trapz(tpr, fpr) == pytest.approx(m["per_class"][name]["roc_auc"], abs=0.01)
    json.dumps(m, allow_nan=False)
    two = classification_metrics(y, np.c_[1 - p1, p1], ["x", "y"], max_roc_points=2)["roc_curves"]["y"]
    assert two["fpr"] == [0.0, 1.0] and two["tpr"] == [0.0, 1.0]


def test_inputs_as_lists_object_arrays_and_bools() -> None:
    as_array = classification_metrics(np.array(Y), np.array(PROBA), CLASSES)
    assert classification_metrics(Y, PROBA, CLASSES) == as_array
    assert classification_metrics(np.array(Y, dtype=object), PROBA, CLASSES) == as_array
    assert classification_metrics(np.array(Y, dtype=float), PROBA, CLASSES) == as_array
    binary = classification_metrics(np.array([False, True]), [[0.9, 0.1], [0.2, 0.8]], ["no", "yes"])
    assert binary["accuracy"] == 1.0


# --- regression ---------------------------------------------------------------------------------


def test_regression_hand_worked() -> None:
    # errors 0, 0, 0, 2: MAE 2/4 = 0.5; RMSE sqrt(4/4) = 1;
    # R^2 = 1 - SSres/SStot = 1 - 4/5 = 0.2 (mean 2.5, SStot 2.25 + .25 + .25 + 2.25 = 5)
    m = regression_metrics(np.array([1, 2, 3, 4]), np.array([1, 2, 3, 6]))
    assert m == {"count": 4, "rmse": 1.0, "mae": 0.5, "r2": pytest.approx(0.2), "notes": []}
    assert _plain(m)
    # Keras returns (n, 1): accepted, not broadcast to (n, n)
    assert regression_metrics([1, 2, 3, 4], [[1], [2], [3], [6]])["rmse"] == 1.0
    perfect = regression_metrics([1.5, -2.0, 7.0], [1.5, -2.0, 7.0])
    assert perfect["rmse"] == 0.0 and perfect["mae"] == 0.0 and perfect["r2"] == 1.0


def test_regression_r2_undefined_for_constant_truth() -> None:
    m = regression_metrics([0.1, 0.1, 0.1], [0.1, 0.2, 0.0])  # the float mean of 0.1s is not 0.1
    assert m["r2"] is None and "R^2 undefined" in m["notes"][0]
    assert m["mae"] == pytest.approx(0.1 * 2 / 3)


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "proba", "classes", "match"),
    [
        (Y[:5], PROBA, CLASSES, r"proba has shape \(6, 3\), expected \(5, 3\)"),
        (Y, [row[:2] for row in PROBA], CLASSES, r"expected \(6, 3\)"),
        ([], np.zeros((0, 3)), CLASSES, "y_true is empty"),
        (Y, [[1.2, -0.2, 0.0]] + PROBA[1:], CLASSES, r"in \[0, 1\].*1.2 at row 0"),
        (Y, [[0.5, 0.4, 0.0]] + PROBA[1:], CLASSES, "sum to 1.*row 0 sums to 0.9"),
        ([0, 0, 1, 1, 2, 3], PROBA, CLASSES, r"outside 0..2.*\[3\]"),
        ([0, 0, 1, 1, 2, -1], PROBA, CLASSES, r"outside 0..2.*\[-1\]"),
        ([0, 0, 1, 1, 2, 1.5], PROBA, CLASSES, "class indices, got 1.5 at row 5"),
        ([0, 0, 1, 1, 2, math.nan], PROBA, CLASSES, "y_true has NaN in 1 row.*row 5"),
        ([0, 0, 1, None, 2, 2], PROBA, CLASSES, "y_true has NaN in 1 row.*row 3"),
        (Y, [[math.nan, 0.5, 0.5]] + PROBA[1:], CLASSES, "proba has NaN in 1 row.*row 0"),
        (["a", "a", "b", "b", "c", "c"], PROBA, CLASSES, "class indices.*got strings"),
        (np.array([Y]), PROBA, CLASSES, "y_true must be 1-D"),
        (Y, PROBA, ["a", "b", "a"], r"duplicates \['a'\]"),
        ([0], [[1.0]], ["only"], "at least 2 classes"),
    ],
)
def test_classification_refusals(y: Any, proba: Any, classes: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        classification_metrics(y, proba, classes)


def test_classification_refuses_a_roc_cap_below_two() -> None:
    with pytest.raises(ValueError, match="max_roc_points must be at least 2"):
        classification_metrics(Y, PROBA, CLASSES, max_roc_points=1)


@pytest.mark.parametrize(
    ("y", "pred", "match"),
    [
        ([1, 2, 3], [1, 2], "y_true has 3 rows but y_pred has 2"),
        ([1, 2], [[1, 2], [3, 4]], r"y_pred must be 1-D, got shape \(2, 2\)"),
        ([], [], "y_true is empty"),
        ([1, math.nan], [1, 2], "y_true has NaN"),
        ([1, 2], [1, math.inf], "y_pred has infinite values"),
        (["1", "2"], [1, 2], "y_true must be numeric"),
    ],
)
def test_regression_refusals(y: Any, pred: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        regression_metrics(y, pred)


def test_refusals_are_loopline_input_errors() -> None:
    with pytest.raises(LooplineInputError):
        regression_metrics([], [])


# --- slices -------------------------------------------------------------------------------------

ISLANDS = pd.DataFrame({"island": ["Biscoe", "Biscoe", "Dream", None, "Dream", "Biscoe"]})


def test_classification_slices_with_a_missing_value() -> None:
    rows = slice_metrics(ISLANDS, ["island"], Y, PROBA, "classification", classes=CLASSES)
    assert rows[0] == {
        "column": "(overall)",
        "value": "(all)",
        "rows": 6,
        "accuracy": pytest.approx(4 / 6),
        "macro_f1": pytest.approx(59 / 90),
    }
    by_value = {row["value"]: row for row in rows[1:]}
    assert set(by_value) == {"Biscoe", "Dream", "(missing)"}
    assert all(row["column"] == "island" for row in rows[1:])
    # Biscoe: rows 0, 1, 5 -> true a, a, c predicted a, b, c: accuracy 2/3;
    #   F1 a 2/3 (P 1, R 1/2), b 0 (predicted, never right), c 1 -> macro 5/9
    assert by_value["Biscoe"]["rows"] == 3
    assert by_value["Biscoe"]["accuracy"] == pytest.approx(2 / 3)
    assert by_value["Biscoe"]["macro_f1"] == pytest.approx(5 / 9)
    # Dream: rows 2, 4 both right (b, c; a absent and never predicted, so not averaged) -> 1, 1
    assert (by_value["Dream"]["accuracy"], by_value["Dream"]["macro_f1"]) == (1.0, 1.0)
    # (missing): row 3, b predicted c -> 0, 0
    missing = {"column": "island", "value": "(missing)", "rows": 1, "accuracy": 0.0, "macro_f1": 0.0}
    assert by_value["(missing)"] == missing
    # predicted class indices give the same rows as probabilities
    indices = np.array(PROBA).argmax(axis=1)
    assert slice_metrics(ISLANDS, "island", Y, indices, "classification", classes=CLASSES) == rows


def test_regression_slices_min_rows_and_whole_floats() -> None:
    frame = pd.DataFrame(
        {"year": [2007, 2007, 2008, 2008, 2008, 2009], "sex": [1.0, 1.0, 2.0, np.nan, 2.0, 2.0]}
    )
    y = np.arange(6, dtype=float)
    errors = np.array([1, -1, 0, 3, -3, 2])
    rows = slice_metrics(frame, ["year", "sex"], y, y + errors, "regression", min_rows=2)
    by = {(row["column"], row["value"]): row for row in rows}
    # 2007: errors 1, -1 -> RMSE 1, MAE 1; 2008: 0, 3, -3 -> RMSE sqrt(18/3), MAE 2; 2009: 1 row < 2
    assert (by["year", "2007"]["rmse"], by["year", "2007"]["mae"]) == (1.0, 1.0)
    assert by["year", "2008"]["rmse"] == pytest.approx(math.sqrt(6)) and by["year", "2008"]["mae"] == 2.0
    assert by["year", "2009"] == {"column": "year", "value": "2009", "rows": 1, "rmse": None, "mae": None}
    # a float column of whole numbers (NaN made it float) slices as "1", "2", "(missing)"
    assert [value for column, value in by if column == "sex"] == ["1", "2", "(missing)"]
    assert by["sex", "2"]["rows"] == 3 and by["sex", "(missing)"]["rmse"] is None
    assert rows[0]["rows"] == 6 and rows[0]["mae"] == pytest.approx(10 / 6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: slice_metrics(ISLANDS, ["beak"], Y, PROBA, "classification"), "'beak' is not in the data"),
        (lambda: slice_metrics(ISLANDS[:5], ["island"], Y, PROBA, "classification"), "has 5 rows but y_true has 6"),
        (lambda: slice_metrics(ISLANDS, ["island"], Y, PROBA, "ranking"), "task must be one of"),
        (lambda: slice_metrics(ISLANDS, ["island"], Y, PROBA, "classification", min_rows=0), "min_rows"),
        (lambda: slice_metrics(ISLANDS, ["island"], Y, [0, 1, 1, 2, 2, 2], "classification"), "classes is required"),
        (
            lambda: slice_metrics(pd.DataFrame({"mass": [3.5, 4.25]}), ["mass"], [1, 2], [1, 2], "regression"),
            "'mass' is continuous",
        ),
        (lambda: slice_metrics(ISLANDS, ["island"], Y, [[0.5, 0.5]] * 6, "classification"), "outside 0..1"),
    ],
)
def test_slice_refusals(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_slices_markdown_sorts_escapes_and_rounds() -> None:
    rows = [
        {"column": "year", "value": "10", "rows": 3, "rmse": 2.0, "mae": 1.0},
        {"column": "(overall)", "value": "(all)", "rows": 1234, "rmse": 2 / 3, "mae": 123456.0},
        {"column": "year", "value": "(missing)", "rows": 1, "rmse": None, "mae": None},
        {"column": "year", "value": "9", "rows": 4, "rmse": 1.0, "mae": 1.0},
        {"column": "island", "value": "Bis|coe <b>", "rows": 2, "rmse": 0.123456, "mae": 5.0},
    ]
    text = slices_markdown(rows, "regression", "Slices | eval")
    lines = text.splitlines()
    assert lines[0] == "# Slices \\| eval"
    assert lines[2] == "| column | value | rows | RMSE | MAE |"
    body = [line for line in lines[4:] if line.startswith("|")]
    assert body == [
        "| (overall) | (all) | 1,234 | 0.6667 | 1.235e+05 |",
        "| island | Bis\\|coe &lt;b&gt; | 2 | 0.1235 | 5 |",
        "| year | 9 | 4 | 1 | 1 |",  # numbers sort as numbers: 9 before 10
        "| year | 10 | 3 | 2 | 1 |",
        "| year | (missing) | 1 | — | — |",
    ]
    assert "too few rows" in text
    classification = slices_markdown(
        slice_metrics(ISLANDS, ["island"], Y, PROBA, "classification"), "classification", "t"
    )
    assert "| column | value | rows | accuracy | macro F1 |" in classification
    assert "| island | Biscoe | 3 | 0.6667 | 0.5556 |" in classification
    assert "too few rows" not in classification


# --- the gate -----------------------------------------------------------------------------------

FLOOR = {"min_accuracy": 0.8}


def test_first_model_approved_by_floor() -> None:
    d = decide("classification", {"accuracy": 0.97}, None, FLOOR, tolerance=0.02)
    assert d.approved and d.baseline_version is None
    assert d.reason == "approved: first model; accuracy 0.97 >= floor 0.8"
    assert d.checks == [{"name": "min_accuracy", "value": 0.97, "limit": 0.8, "passed": True}]


def test_first_model_rejected_by_floor() -> None:
    d = decide("classification", {"accuracy": 0.71, "macro_f1": 0.9}, None, {**FLOOR, "min_macro_f1": 0.5}, 0.02)
    assert not d.approved
    assert d.reason == "rejected: first model; accuracy 0.71 < floor 0.8"  # only what failed
    assert [c["passed"] for c in d.checks] == [False, True]


def test_a_metric_exactly_at_its_limit_passes() -> None:
    assert decide("classification", {"accuracy": 0.8}, None, FLOOR, 0.0).approved
    d = decide("regression", {"rmse": 110.0}, None, {"max_rmse": 110}, 0.0)
    assert d.approved and d.reason == "approved: first model; rmse 110 <= ceiling 110"


def test_first_model_without_floors() -> None:
    d = decide("classification", {"accuracy": 0.1}, None, {}, 0.0)
    assert d.approved and d.checks == [] and d.reason == "approved: first model; no floors set"


def test_worse_than_production_beyond_tolerance_rejected() -> None:
    d = decide("classification", {"accuracy": 0.71}, {"accuracy": 0.83}, FLOOR, 0.02, production_version=3)
    assert not d.approved and d.baseline_version == 3
    assert d.reason == (
        "rejected: accuracy 0.71 < floor 0.8; accuracy 0.71 is 0.12 below production v3 (0.83), tolerance 0.02"
    )
    assert d.checks[1] == {"name": "accuracy_vs_production", "value": 0.71, "limit": 0.81, "passed": False}
    # floors met, production comparison alone rejects
    d = decide("classification", {"accuracy": 0.85}, {"accuracy": 0.9}, FLOOR, 0.02, production_version=3)
    assert not d.approved
    assert d.reason == "rejected: accuracy 0.85 is 0.05 below production v3 (0.9), tolerance 0.02"


def test_within_tolerance_or_better_approved() -> None:
    d = decide("classification", {"accuracy": 0.82}, {"accuracy": 0.83}, FLOOR, 0.02, production_version=3)
    assert d.approved
    assert d.reason == (
        "approved: accuracy 0.82 >= floor 0.8; accuracy 0.82 is 0.01 below production v3 (0.83), within tolerance 0.02"
    )
    # exactly at the tolerance, where 0.8 - 0.7 = 0.10000000000000009 in floats
    d = decide("classification", {"accuracy": 0.7}, {"accuracy": 0.8}, {}, 0.1, production_version=4)
    assert d.approved and d.checks[0]["limit"] == 0.7
    d = decide("classification", {"accuracy": 0.9}, {"accuracy": 0.83}, FLOOR, 0.0)
    assert d.approved and d.reason.endswith("accuracy 0.9 >= production (0.83)")


def test_regression_ceilings_and_production() -> None:
    ceilings = {"max_rmse": 110, "max_mae": 50}
    ok = decide("regression", {"rmse": 104.0, "mae": 40.0}, {"rmse": 100.0}, ceilings, 5, production_version=2)
    assert ok.approved
    assert ok.reason == (
        "approved: rmse 104 <= ceiling 110; mae 40 <= ceiling 50; rmse 104 is 4 above production v2 (100), "
        "within tolerance 5"
    )
    bad = decide("regression", {"rmse": 120.0, "mae": 40.0}, {"rmse": 100.0}, ceilings, 5, production_version=2)
    assert not bad.approved
    assert bad.reason == "rejected: rmse 120 > ceiling 110; rmse 120 is 20 above production v2 (100), tolerance 5"
    assert bad.checks[-1]["limit"] == 105.0
    r2 = decide("regression", {"rmse": 1.0, "r2": 0.4}, None, {"min_r2": 0.5}, 0)
    assert not r2.approved and "r2 0.4 < floor 0.5" in r2.reason


@pytest.mark.parametrize(
    ("value", "shown"), [(math.nan, "nan"), (None, "None"), (np.float64("nan"), "nan")]
)
def test_nan_or_missing_metric_fails_its_check(value: Any, shown: str) -> None:
    d = decide("classification", {"accuracy": value}, {"accuracy": 0.8}, FLOOR, 0.1, production_version=1)
    assert not d.approved
    assert d.reason == (
        f"rejected: accuracy is {shown}: cannot meet floor 0.8; "
        f"accuracy is {shown}: cannot compare with production v1 (0.8)"
    )
    assert [c["value"] for c in d.checks] == [None, None] and not any(c["passed"] for c in d.checks)
    d = decide("classification", {}, None, FLOOR, 0.1)
    assert not d.approved and "accuracy is not measured" in d.reason


def test_production_without_the_metric_is_not_compared() -> None:
    d = decide("regression", {"rmse": 90.0}, {"rmse": None}, {}, 5, production_version=2)
    assert d.approved and d.reason == "approved: production v2 has no usable rmse (None): not compared"
    assert d.checks == [{"name": "rmse_vs_production", "value": 90.0, "limit": None, "passed": True}]
    d = decide("regression", {"rmse": 90.0}, {}, {"max_rmse": 50}, 5, production_version=2)
    assert not d.approved and "not compared" in d.reason and "rmse 90 > ceiling 50" in d.reason


def test_reason_shows_enough_digits_to_differ() -> None:
    d = decide("classification", {"accuracy": 0.79999}, None, FLOOR, 0.0)
    assert d.reason == "rejected: first model; accuracy 0.79999 < floor 0.8"


def test_decide_takes_the_metrics_dict_directly() -> None:
    candidate = classification_metrics(Y, PROBA, CLASSES)
    d = decide("classification", candidate, None, {"min_macro_roc_auc": 0.85, "max_log_loss": 0.7}, 0.0)
    assert not d.approved  # AUC 0.875 meets 0.85; log loss 0.7183 exceeds 0.7
    assert d.reason == "rejected: first model; log_loss 0.7183 > ceiling 0.7"
    json.dumps(d.to_dict(), allow_nan=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.approved = True  # type: ignore[misc]
    assert isinstance(d, Decision)


@pytest.mark.parametrize(
    ("task", "floors", "kwargs", "match"),
    [
        ("classification", {"minimum_accuracy": 0.8}, {}, "unknown floor 'minimum_accuracy'"),
        ("classification", {"accuracy": 0.8}, {}, "unknown floor 'accuracy'"),
        ("classification", {"min_rmse": 0.8}, {}, "classification has no metric 'rmse'"),
        ("regression", {"min_accuracy": 0.8}, {}, "regression has no metric 'accuracy'"),
        ("regression", {"min_rmse": 10}, {}, "its limit is a ceiling named 'max_rmse'"),
        ("classification", {"max_accuracy": 0.8}, {}, "its limit is a floor named 'min_accuracy'"),
        ("classification", {"min_accuracy": math.nan}, {}, "must be a finite number"),
        ("classification", {"min_accuracy": "0.8"}, {}, "must be a finite number"),
        ("classification", FLOOR, {"tolerance": -0.1}, "tolerance must be a finite number >= 0"),
        ("classification", FLOOR, {"tolerance": math.nan}, "tolerance"),
        ("classification", FLOOR, {"production_version": 3}, "without production metrics"),
        ("clustering", {}, {}, "task must be one of classification, regression"),
    ],
)
def test_decide_refusals(task: str, floors: dict, kwargs: dict, match: str) -> None:
    arguments = {"tolerance": 0.02, **kwargs}
    with pytest.raises(ValueError, match=match):
        decide(task, {"accuracy": 0.9, "rmse": 1.0}, None, floors, **arguments)
