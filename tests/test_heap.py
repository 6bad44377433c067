"""The malloc tuning that keeps memory per waiting visitor down applies on this (glibc) system."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from demo_app.heap import freeze_startup_objects, keep_heap_small
from demo_app.loop_lag import GcPauses


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_glibc_takes_the_tuning_and_taking_it_twice_is_harmless() -> None:
    assert keep_heap_small()
    assert keep_heap_small()


def test_start_up_objects_are_left_out_of_collection_and_cycles_made_later_are_still_freed() -> None:
    import gc
    import weakref

    try:
        frozen = freeze_startup_objects()
        assert frozen > 10_000  # the interpreter's and pytest's objects

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]  # a cycle made after start-up
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_the_probe_records_a_full_collection_with_its_cpu_time(tmp_path: Path) -> None:
    import gc

    log = tmp_path / "lag.txt.gc"
    junk = [[i] for i in range(300_000)]  # enough tracked objects for a collection of 1 ms or more
    with GcPauses(log):
        gc.collect()
    del junk
    generation, wall_ms, cpu_ms = log.read_text().split()[1:4]
    assert generation == "2" and float(wall_ms) >= 1.0 and float(cpu_ms) > 0.0
