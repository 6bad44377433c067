"""The cap on starting grants for new anonymous visitors from one address."""

from __future__ import annotations

from datetime import date

from demo_app.grants import GrantGate, client_address


def test_an_address_gets_its_quota_per_day_and_others_are_independent() -> None:
    day = [date(2026, 11, 25)]
    gate = GrantGate(2, today=lambda: day[0])
    assert [gate.admit("1.2.3.4") for _ in range(3)] == [True, True, False]
    assert gate.admit("5.6.7.8")
    day[0] = date(2026, 11, 26)
    assert gate.admit("1.2.3.4"), "a new UTC day starts a new quota"


def test_zero_means_no_grants_for_new_anonymous_visitors() -> None:
    assert not GrantGate(0).admit("1.2.3.4")


def test_the_address_behind_the_spaces_proxy_is_the_first_forwarded_one() -> None:
    assert client_address({"x-forwarded-for": "9.9.9.9, 10.0.0.1"}, "10.0.0.2") == "9.9.9.9"
    assert client_address({}, "127.0.0.1") == "127.0.0.1"
    assert client_address({"x-forwarded-for": " "}, None) is None
