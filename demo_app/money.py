"""Credits as visitors read them, and prices as Replicate quotes them.

The ledger counts whole credits only (1 credit = $0.001); this module is the one place that
turns dollars into credits and credits back into text, so no float ever reaches the ledger.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, InvalidOperation

CREDITS_PER_DOLLAR = 1000
"""1 credit = $0.001: fine enough for per-second prices like $0.02/s (20 credits/s)."""


def credits_from_dollars(dollars: str, *, round_up: bool = False) -> int:
    """Exact credits for a dollar amount written as text ("0.02" -> 20).

    A price that is not a whole number of credits ("0.0014") is refused unless `round_up`
    is given, so rounding in the visitor's disfavour is always a visible, deliberate choice.
    """
    try:
        amount = Decimal(dollars) * CREDITS_PER_DOLLAR
    except InvalidOperation:
        raise ValueError(f'{dollars!r} is not a dollar amount; write it like "0.02".') from None
    whole = amount.to_integral_value(rounding=ROUND_CEILING)
    if whole != amount and not round_up:
        raise ValueError(
            f"${dollars} is {amount} credits, not a whole number; pass round_up=True to charge {whole}."
        )
    return int(whole)


def format_credits(credits: int) -> str:
    """Credits as dollars for display: two decimals when exact, three when needed.

    200 -> "$0.20", 206 -> "$0.206", 1_234_500 -> "$1,234.50", -50 -> "-$0.05".
    """
    sign = "-" if credits < 0 else ""
    whole, milli = divmod(abs(credits), CREDITS_PER_DOLLAR)
    cents_text = f"{milli:03d}"
    if cents_text.endswith("0"):
        cents_text = cents_text[:2]
    return f"{sign}${whole:,}.{cents_text}"
