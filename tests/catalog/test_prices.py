"""The owner's price file: it changes quotes, holds and captures, the page says the Space set
the price, and a bad file refuses to start in one sentence naming the line or the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.catalog import CATALOG, OfferError, current_offer, read_offer, use_offer
from demo_app.presenters import model_info

WAN = "wan-video/wan-2.2-s2v"
KLING = "kwaivgi/kling-avatar-v2"
SADTALKER = "cjwbw/sadtalker"


@pytest.fixture(autouse=True)
def _restore_offer():  # type: ignore[no-untyped-def]
    previous = current_offer()
    yield
    use_offer(previous)


def prices(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_keeps_the_catalogs_prices(tmp_path: Path) -> None:
    offer = read_offer(None, tmp_path / "prices.toml")
    assert offer.models[WAN] == CATALOG[WAN]
    assert not offer.models[WAN].price_set_by_space


def test_a_rate_and_a_margin_replace_the_price_for_every_choice(tmp_path: Path) -> None:
    path = prices(
        tmp_path,
        f'["{WAN}"]\nusd_per_output_second = "0.05"\nmargin_percent = 10\n["{KLING}"]\nusd_per_run = 0.5\n',
    )
    offer = read_offer(None, path)
    wan, kling = offer.models[WAN], offer.models[KLING]
    assert wan.pricing.per_output_second == 55 and wan.price_set_by_space
    assert wan.hold_for(10.0, {}) == 557  # 10.125 s (whole chunks) at 55 credits/s, rounded up
    assert wan.pricing.actual(output_s=10.0, predict_time_s=None, held=557) == 550
    assert kling.hold_for(10.0, {"mode": "pro"}) == kling.hold_for(30.0, {}) == 500
    use_offer(offer)
    assert "Price: $0.055 per second of video — set by this Space." in model_info(WAN)
    assert "Price: $0.50 per run (std) or $0.50 per run (pro) — set by this Space." in model_info(KLING)


def test_a_margin_alone_raises_each_choice_of_the_catalogs_price(tmp_path: Path) -> None:
    offer = read_offer(None, prices(tmp_path, f'["{KLING}"]\nmargin_percent = 50\n'))
    kling = offer.models[KLING]
    assert kling.pricing_for({"mode": "std"}).per_output_second == 84  # 56 × 1.5
    assert kling.pricing_for({"mode": "pro"}).per_output_second == 165  # 110 × 1.5
    assert kling.pricing_for({"mode": "pro"}).source.startswith("Set by this Space in prices.toml")


def test_a_time_billed_override_keeps_its_run_time_bound(tmp_path: Path) -> None:
    path = prices(tmp_path, f'["{SADTALKER}"]\nusd_per_predict_second = "0.003"\n')
    sadtalker = read_offer(SADTALKER, path).models[SADTALKER]
    assert sadtalker.pricing.per_predict_second == 3
    held = sadtalker.hold_for(2.0, {})
    assert held == (60 + 8 * 2) * 3
    assert sadtalker.cancel_after_s(held, {}, 600.0) == 76


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('["a/b"\nusd_per_run = 1\n', "is not valid TOML: "),
        ('["someone/else"]\nusd_per_run = 1\n', "prices “someone/else”, which is not a model of this app"),
        (f'["{WAN}"]\nusd_per_second = 1\n', f"for {WAN}, has the unknown key “usd_per_second”"),
        (
            f'["{WAN}"]\nusd_per_run = 1\nusd_per_output_second = 1\n',
            "sets both usd_per_output_second and usd_per_run",
        ),
        (f'["{WAN}"]\nusd_per_run = "a lot"\n', "usd_per_run must be a dollar amount"),
        (f'["{WAN}"]\nusd_per_run = true\n', "usd_per_run must be a dollar amount"),
        (f'["{WAN}"]\nusd_per_output_second = -0.02\n', "must be between $0 and $10"),
        (f'["{WAN}"]\nusd_per_output_second = 1e300\n', "usd_per_output_second must be"),
        (f'["{WAN}"]\nusd_per_output_second = inf\n', "usd_per_output_second must be a dollar amount"),
        (f'["{WAN}"]\nusd_per_output_second = nan\n', "usd_per_output_second must be a dollar amount"),
        (f'["{WAN}"]\nusd_per_output_second = "Infinity"\n', "usd_per_output_second must be"),
        (f'["{WAN}"]\nusd_per_output_second = "NaN"\n', "usd_per_output_second must be"),
        (f'["{WAN}"]\nusd_per_predict_second = "0.001"\n', "Replicate bills this model per second of video"),
        (f'["{WAN}"]\nmargin_percent = 12.5\n', "margin_percent must be a whole number from 0 to 1000"),
        (f'["{WAN}"]\n', "sets no price"),
        (f'"{WAN}" = 3\n', "must be a table of prices"),
    ],
)
def test_a_bad_price_file_is_refused_in_one_sentence(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(OfferError) as refused:
        read_offer(None, prices(tmp_path, text))
    message = str(refused.value)
    assert says in message, message
    assert "\n" not in message


def test_a_toml_error_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(OfferError, match=r"line 3"):
        read_offer(None, prices(tmp_path, f'["{WAN}"]\nusd_per_run = 1\nmargin_percent = \n'))


def test_a_huge_or_binary_file_is_refused_before_parsing(tmp_path: Path) -> None:
    huge = prices(tmp_path, "# " + "x" * 100_000)
    with pytest.raises(OfferError, match="at most 65,536 bytes"):
        read_offer(None, huge)
    huge.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(OfferError, match="not UTF-8"):
        read_offer(None, huge)
