"""LIPSYNC_MODELS: by default the Space sells only commercially usable models; a non-commercial
one is offered only when the owner names it, and is then labelled as a research model."""

from __future__ import annotations

import pytest

from demo_app.catalog import (
    CATALOG,
    OfferError,
    UnknownModel,
    current_offer,
    get_model,
    read_offer,
    use_offer,
)
from demo_app.presenters import model_info

WAV2LIP = "devxpy/cog-wav2lip"
SADTALKER = "cjwbw/sadtalker"


@pytest.fixture(autouse=True)
def _restore_offer():  # type: ignore[no-untyped-def]
    previous = current_offer()
    yield
    use_offer(previous)


def test_the_default_offer_hides_the_non_commercial_models() -> None:
    offer = read_offer(None)
    assert WAV2LIP not in offer.models and SADTALKER not in offer.models
    assert offer.models and all(spec.commercial for spec in offer.models.values())
    assert set(offer.models) == {i for i, s in CATALOG.items() if s.commercial}
    assert offer.default == "wan-video/wan-2.2-s2v"
    use_offer(offer)
    with pytest.raises(UnknownModel, match="There is no model “devxpy/cog-wav2lip” here"):
        get_model(WAV2LIP)


def test_a_named_non_commercial_model_is_offered_and_labelled() -> None:
    offer = read_offer(f" {WAV2LIP} , wan-video/wan-2.2-s2v,")
    assert list(offer.models) == ["wan-video/wan-2.2-s2v", WAV2LIP]
    use_offer(offer)
    spec = get_model(WAV2LIP)
    assert spec.label == "Wav2Lip (non-commercial research model)"
    assert "commercial use is strictly prohibited" in model_info(WAV2LIP)
    assert get_model("wan-video/wan-2.2-s2v").label == "Wan 2.2 S2V"


def test_sadtalker_is_not_commercial_and_says_why() -> None:
    spec = CATALOG[SADTALKER]
    assert not spec.commercial
    assert "README and its LICENSE file disagree" in spec.licence


def test_every_model_carries_a_licence_note_shown_in_its_description() -> None:
    use_offer(read_offer(",".join(CATALOG)))
    for model_id, spec in CATALOG.items():
        assert spec.licence.startswith("Licence:"), model_id
        assert spec.licence in model_info(model_id)


def test_the_first_offered_model_is_the_default_when_wan_is_not_offered() -> None:
    assert read_offer("veed/fabric-1.0,bytedance/omni-human").default == "bytedance/omni-human"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("someone/deepfake-9000", "LIPSYNC_MODELS names “someone/deepfake-9000”, which is not a model"),
        ("x" * 5000, "LIPSYNC_MODELS is 5,000 characters long"),
    ],
)
def test_a_bad_model_list_is_refused_in_one_sentence(value: str, says: str) -> None:
    with pytest.raises(OfferError) as refused:
        read_offer(value)
    assert says in str(refused.value) and "\n" not in str(refused.value)
