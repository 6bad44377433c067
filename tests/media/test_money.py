"""Dollars <-> credits: exact, and readable for visitors."""

from __future__ import annotations

import pytest

from demo_app.money import credits_from_dollars, format_credits


@pytest.mark.parametrize(
    ("credits", "text"),
    [
        (0, "$0.00"),
        (5, "$0.005"),
        (10, "$0.01"),
        (200, "$0.20"),
        (206, "$0.206"),
        (1000, "$1.00"),
        (1_234_500, "$1,234.50"),
        (1_234_567, "$1,234.567"),
        (-50, "-$0.05"),
    ],
)
def test_format_credits(credits: int, text: str) -> None:
    assert format_credits(credits) == text


@pytest.mark.parametrize(("dollars", "credits"), [("0.02", 20), ("0.14", 140), ("1", 1000), ("0.001", 1)])
def test_credits_from_dollars_is_exact(dollars: str, credits: int) -> None:
    assert credits_from_dollars(dollars) == credits


def test_fractional_credits_are_refused_unless_rounding_up_is_asked_for() -> None:
    with pytest.raises(ValueError, match=r"1\.4.*round_up=True to charge 2"):
        credits_from_dollars("0.0014")
    assert credits_from_dollars("0.0014", round_up=True) == 2
    assert credits_from_dollars("0.000225", round_up=True) == 1


def test_text_that_is_no_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="not a dollar amount"):
        credits_from_dollars("two cents")
