"""One of two processes holding credits at once on one PostgreSQL ledger.

    python -m tests.credits.pg_hold_worker DATABASE_URL NAME

Prints "ready" once the ledger is open, waits for a line on stdin (so both start together),
then sends, all at once, `HOLDS` holds of its own refs on `POOR` (who can pay only some) and
holds of the `SHARED` refs both processes use on `RICH`; prints what it got as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from demo_app.credits import Hold, InsufficientCredits, Ledger
from demo_app.database import Database

HOLDS, SHARED, PRICE = 500, 100, 7
POOR, RICH = "hf:poor", "hf:rich"
LIMITS = {"starting_grant": 0, "daily_budget": 10**9, "max_open_holds_per_owner": 10**4}


async def main(url: str, name: str) -> None:
    database = await Database.open(url, max_size=10)
    ledger = Ledger.on_database(database, **LIMITS)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    results = await asyncio.gather(
        *(ledger.hold(POOR, PRICE, f"{name}-{i}", reason="burst") for i in range(HOLDS)),
        *(ledger.hold(RICH, PRICE, f"shared-{i}", reason="both") for i in range(SHARED)),
        return_exceptions=True,
    )
    own, shared = results[:HOLDS], results[HOLDS:]
    unexpected = [repr(r) for r in results if not isinstance(r, Hold | InsufficientCredits)]
    print(
        json.dumps(
            {
                "held": [r.ref for r in own if isinstance(r, Hold) and r.applied],
                "refused_available": sorted({r.available for r in own if isinstance(r, InsufficientCredits)}),
                "shared_applied": [r.ref for r in shared if isinstance(r, Hold) and r.applied],
                "unexpected": unexpected,
            }
        ),
        flush=True,
    )
    await database.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
