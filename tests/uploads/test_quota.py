"""Upload allowances per address and on disk."""

from __future__ import annotations

from demo_app.uploads import UploadQuota


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_its_hourly_allowance_then_a_sentence_with_the_wait() -> None:
    clock = Clock()
    quota = UploadQuota(per_address_bytes=3_000_000, disk_bytes=10**12, clock=clock)
    assert quota.admit("1.2.3.4", 2_000_000) is None
    assert quota.admit("1.2.3.4", 1_000_000) is None
    refusal = quota.admit("1.2.3.4", 1)
    assert refusal is not None and "in the last hour" in refusal and "60 minutes" in refusal
    assert quota.admit("5.6.7.8", 3_000_000) is None  # another address has its own allowance
    clock.now += 3600
    assert quota.admit("1.2.3.4", 3_000_000) is None


def test_the_disk_allowance_counts_admitted_uploads_until_the_sweeper_recounts() -> None:
    quota = UploadQuota(per_address_bytes=10**12, disk_bytes=5_000, clock=Clock())
    assert quota.admit("a", 3_000) is None
    refusal = quota.admit("b", 3_000)
    assert refusal is not None and "upload space is full" in refusal
    quota.counted(1_000)  # the sweeper removed old uploads
    assert quota.admit("b", 3_000) is None
    assert quota.disk_used == 4_000
