"""Run ledger operations until killed, reporting each one after it returned (so: on disk).

    python -m tests.credits.crash_worker LEDGER_PATH|DATABASE_URL REPORT_PATH SEED

Prints "ready" on stdout once the ledger (a TinyDB file, or PostgreSQL for a URL) is open, then
four concurrent workers hold, capture, release and adjust forever; every completed operation
appends one JSON line to REPORT_PATH.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from pathlib import Path

from demo_app.credits import HoldRefused, Ledger
from demo_app.database import Database

OWNERS = [f"browser:{i}" for i in range(6)]


async def main(where: str, report_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    limits = {"starting_grant": 5000, "daily_budget": 10**9, "max_open_holds_per_owner": 40}
    if where.startswith("postgresql://"):
        ledger = Ledger.on_database(await Database.open(where), **limits)
    else:
        ledger = Ledger(Path(where), archive_at=40, **limits)
    held = {h.ref: h.amount for h in await ledger.open_holds()}
    with report_path.open("a", buffering=1) as report:  # one write per line

        def done(**op: object) -> None:
            report.write(json.dumps(op) + "\n")

        async def worker(w: int) -> None:
            for n in range(10**9):
                roll = rng.random()
                if held and roll < 0.45:
                    ref = rng.choice(sorted(held))
                    amount = held.pop(ref)
                    if rng.random() < 0.6:
                        s = await ledger.capture(ref, rng.randint(0, amount), reason="delivered")
                        done(op="capture", ref=ref, charged=s.charged)
                    else:
                        await ledger.release(ref, reason="failed")
                        done(op="release", ref=ref)
                elif roll < 0.9:
                    ref, owner, amount = f"{seed}-{w}-{n}", rng.choice(OWNERS), rng.randint(1, 300)
                    try:
                        await ledger.hold(owner, amount, ref, reason="a job")
                    except HoldRefused:
                        continue
                    held[ref] = amount
                    done(op="hold", ref=ref, owner=owner, amount=amount)
                else:
                    reason = f"gift {seed}-{w}-{n}"
                    await ledger.adjust(rng.choice(OWNERS), rng.randint(1, 100), reason=reason)
                    done(op="adjust", reason=reason)

        for owner in OWNERS:
            await ledger.open_account(owner)
        print("ready", flush=True)
        await asyncio.gather(*(worker(w) for w in range(4)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])))
