"""The share store on disk: a link survives a restart, a revoke too, and no other token opens it."""

from __future__ import annotations

from pathlib import Path

from demo_app.shares import ShareStore


async def test_links_survive_a_restart_and_revokes_stick(tmp_path: Path) -> None:
    path = tmp_path / "shares.json"
    store = ShareStore(path)
    kept = await store.create("browser:ann", "job-kept")
    revoked = await store.create("browser:ann", "job-revoked")
    assert await store.create("browser:ann", "job-kept") == kept, "sharing again shows the same link"
    assert len(kept.token) == 32 and kept.token != revoked.token
    assert await store.revoke("job-revoked")
    store.close()

    reopened = ShareStore(path)
    try:
        assert await reopened.find(kept.token) == kept
        assert await reopened.of("job-kept") == kept
        assert await reopened.find(revoked.token) is None and await reopened.of("job-revoked") is None
        wrong = ["", kept.token[:-1], kept.token + "A", kept.token.upper(), "../" + kept.token[3:], "x" * 999]
        assert all([await reopened.find(token) is None for token in wrong])
    finally:
        reopened.close()
