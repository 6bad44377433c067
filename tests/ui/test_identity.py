"""API keys and visitor identity: only keys this server signed are accepted."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from demo_app.visitors import ForgedKey, KeyRing, identify_visitor, load_or_create_secret


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing(b"a-test-secret-of-sufficient-length")


def test_key_round_trips_to_its_owner(keys: KeyRing) -> None:
    for owner in ("browser:0123abcd", "hf:some.user-name_1"):
        assert keys.owner_of(keys.key_for(owner)) == owner


@pytest.mark.parametrize(
    "forge",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # signature altered
        lambda key: "browser:someone-else." + key.rpartition(".")[2],  # owner swapped
        lambda key: key.rpartition(".")[0],  # no signature
        lambda key: "",
        lambda key: "not a key at all",
    ],
)
def test_forged_keys_are_refused_with_a_readable_sentence(keys: KeyRing, forge: object) -> None:
    assert callable(forge)
    with pytest.raises(ForgedKey) as caught:
        keys.owner_of(forge(keys.key_for("browser:0123abcd")))
    assert "Credits tab" in str(caught.value)


def test_a_key_from_another_server_is_refused(keys: KeyRing) -> None:
    other = KeyRing(b"another-secret-of-sufficient-len")
    with pytest.raises(ForgedKey):
        keys.owner_of(other.key_for("browser:0123abcd"))


def test_the_secret_never_shows_in_repr(keys: KeyRing) -> None:
    assert "a-test-secret" not in repr(keys)


def test_signed_in_visitor_is_their_hf_account(keys: KeyRing) -> None:
    visitor = identify_visitor(keys, hf_username="alice", browser_key=None)
    assert visitor.owner == "hf:alice"
    assert keys.owner_of(visitor.api_key) == "hf:alice"
    assert visitor.browser_key is None  # the browser's own id is left alone


def test_browser_keeps_its_genuine_key(keys: KeyRing) -> None:
    first = identify_visitor(keys, hf_username=None, browser_key=None)
    assert first.owner.startswith("browser:")
    assert first.browser_key == first.api_key
    assert first.new
    again = identify_visitor(keys, hf_username=None, browser_key=first.browser_key)
    assert (again.owner, again.api_key, again.browser_key) == (first.owner, first.api_key, first.browser_key)
    assert not again.new, "a returning browser is not a new visitor (no second grant)"


def test_altered_or_borrowed_browser_values_get_a_new_owner(keys: KeyRing) -> None:
    genuine = identify_visitor(keys, hf_username=None, browser_key=None)
    forged = identify_visitor(keys, hf_username=None, browser_key="browser:chosen-by-me.xyz")
    assert forged.owner not in {genuine.owner, "browser:chosen-by-me"}
    # An HF account's key stored in a browser does not make that browser the HF account.
    borrowed = identify_visitor(keys, hf_username=None, browser_key=keys.key_for("hf:alice"))
    assert borrowed.owner.startswith("browser:")


def test_secret_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "api-key-secret"
    first = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert len(first) >= 32


def test_racing_creators_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "api-key-secret"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(load_or_create_secret(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert list(tmp_path.iterdir()) == [path]
