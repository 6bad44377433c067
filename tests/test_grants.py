"""The cap on starting grants: counted per address the proxy saw, kept with the ledger."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers

from demo_app.credits import Ledger
from demo_app.visitors import GrantGate, client_address, forwarded_for
from tests.credits.audit import read_state
from tests.credits.conftest import Clock
from tests.ui.conftest import AppFactory, RunningApp, start_app  # noqa: F401  (start_app: a fixture)


def test_the_visitor_is_the_entry_the_trusted_proxy_appended() -> None:
    spoofed = ["6.6.6.6", "203.0.113.7"]  # the client wrote 6.6.6.6; the proxy appended what it saw
    assert client_address(spoofed, "10.16.3.80", trusted_hops=1) == "203.0.113.7"
    assert client_address(["6.6.6.6", "203.0.113.7", "10.0.0.1"], "10.0.0.2", trusted_hops=2) == "203.0.113.7"


def test_without_a_trusted_proxy_the_header_is_ignored() -> None:
    assert client_address(["6.6.6.6"], "198.51.100.4", trusted_hops=0) == "198.51.100.4"


@pytest.mark.parametrize(
    ("forwarded", "peer"),
    [([], "10.16.3.80"), (["not-an-ip"], "10.16.3.80"), (["203.0.113.7"], "10.16.3.80")],
)
def test_a_short_or_garbled_header_falls_back_to_the_peer(forwarded: list[str], peer: str) -> None:
    hops = 2 if forwarded == ["203.0.113.7"] else 1
    assert client_address(forwarded, peer, trusted_hops=hops) == peer
    assert client_address(forwarded, None, trusted_hops=hops) == "unknown"


def test_ipv6_visitors_are_counted_per_64_network() -> None:
    a = client_address(["2001:db8:1:2::1"], None, trusted_hops=1)
    b = client_address(["2001:db8:1:2:ffff::9"], None, trusted_hops=1)
    assert a == b == "2001:db8:1:2::/64"
    assert client_address(["::ffff:203.0.113.7"], None, trusted_hops=1) == "203.0.113.7"


def test_repeated_forwarded_headers_are_read_in_order() -> None:
    headers = Headers(raw=[(b"x-forwarded-for", b"6.6.6.6, 7.7.7.7"), (b"x-forwarded-for", b"203.0.113.7")])
    assert forwarded_for(headers) == ["6.6.6.6", "7.7.7.7", "203.0.113.7"]
    assert forwarded_for({"x-forwarded-for": " 1.2.3.4 ,5.6.7.8"}) == ["1.2.3.4", "5.6.7.8"]


async def test_the_ledger_counts_new_visitors_per_address_and_day(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ledger.json"

    def open_ledger() -> Ledger:
        return Ledger(
            path,
            starting_grant=100,
            daily_budget=0,
            max_open_holds_per_owner=1,
            clock=clock,
            grants_per_address_per_day=2,
        )

    ledger = open_ledger()
    got = [(await ledger.open_account(f"browser:{i}", address="1.2.3.4")).balance for i in range(3)]
    assert got == [100, 100, 0]
    assert (await ledger.open_account("browser:other", address="5.6.7.8")).balance == 100
    assert (await ledger.open_account("browser:0", address="1.2.3.4")).balance == 100, "a returning owner"
    ledger.close()

    ledger = open_ledger()  # a restart forgives nothing
    assert (await ledger.open_account("browser:3", address="1.2.3.4")).balance == 0
    clock.advance(days=1)
    assert (await ledger.open_account("browser:4", address="1.2.3.4")).balance == 100, "a new UTC day"
    ledger.close()
    kept = list(read_state(path)["grant_counts"].values())
    assert kept == [{"day": clock.now.date().isoformat(), "address": "1.2.3.4", "count": 1}], "only today's"


def test_grant_gate_refuses_negative_hops() -> None:
    with pytest.raises(ValueError):
        GrantGate(-1)


# ---- through the launched app ------------------------------------------------------------------


def load_page(app: RunningApp, forwarded: str) -> int:
    """Run the page's load event as a new browser whose request carries `forwarded`; its balance."""
    config = httpx.get(app.url + "config", timeout=30).json()
    [fn] = [d["id"] for d in config["dependencies"] if d.get("api_name") == "page_load"]
    session = secrets.token_hex(8)
    headers = {"X-Forwarded-For": forwarded}
    api = app.url + "gradio_api/queue/"
    body = {"data": [None], "fn_index": fn, "session_hash": session, "event_data": None, "trigger_id": 0}
    httpx.post(api + "join", json=body, headers=headers, timeout=30).raise_for_status()
    with httpx.stream("GET", api + "data", params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message: dict[str, Any] = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                assert message["success"], message
                balance_html = message["output"]["data"][3]
                found = re.search(r'data-balance="(\d+)"', balance_html)
                assert found is not None, balance_html
                return int(found.group(1))
    raise AssertionError("the load event never completed")


@pytest.mark.slow
def test_a_spoofed_forwarded_entry_gets_no_second_grant_and_a_restart_forgives_nothing(
    start_app: AppFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    app = start_app(data_dir=data_dir, grants_per_address_per_day=1, trusted_proxy_hops=1)
    assert load_page(app, "1.1.1.1, 203.0.113.7") == 1000
    assert load_page(app, "9.9.9.9, 203.0.113.7") == 0, "the entry the client wrote does not count"
    assert load_page(app, "203.0.113.8") == 1000, "another address has its own cap"
    app.demo.close()

    again = start_app(data_dir=data_dir, grants_per_address_per_day=1, trusted_proxy_hops=1)
    assert load_page(again, "8.8.8.8, 203.0.113.7") == 0, "a restart keeps today's count"
    assert load_page(again, "203.0.113.9") == 1000
