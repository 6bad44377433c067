"""The malloc tuning that keeps memory per waiting visitor down applies on this (glibc) system."""

from __future__ import annotations

import sys

import pytest

from demo_app.heap import keep_heap_small


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_glibc_takes_the_tuning_and_taking_it_twice_is_harmless() -> None:
    assert keep_heap_small()
    assert keep_heap_small()
