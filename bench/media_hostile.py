"""Worst memory growth and time of the media checks over the hostile corpus, the largest files
we accept, and a Hypothesis-style batch of mutated files.

Run from the repository root:

    python -m bench.media_hostile               # corpus + largest files + 2,000 mutated files
    python -m bench.media_hostile --fuzz 0      # corpus and largest files only

Each check runs in a `MediaWorkers` process as the server runs it; memory is the worker's peak
resident size during the check above what it held before (VmHWM), time is wall-clock seconds
seen by the caller, including the pipe round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from pathlib import Path

from demo_app.media import MediaError, MediaWorkers
from tests.media.canary import canary_server
from tests.media.hostile import AUDIO_LIMITS, CASES, IMAGE_LIMITS
from tests.media.test_fuzz import seeds
from tests.media.test_hostile import LARGEST

MIB = 1024 * 1024


async def run(workers: MediaWorkers, kind: str, src: Path, out: Path) -> tuple[str, float, float]:
    workers.reset_usage()
    try:
        if kind == "image":
            await workers.prepare_image(src, out, **IMAGE_LIMITS)
        else:
            await workers.prepare_audio(src, out, **AUDIO_LIMITS)
        outcome = "accepted"
    except MediaError as exc:
        outcome = exc.code
    usage = workers.usage()
    return outcome, usage.worst_growth_bytes / MIB, usage.worst_seconds


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not out:
            break
        at = rng.randrange(len(out))
        action = rng.choice(["flip", "insert", "delete", "cut", "repeat"])
        if action == "flip":
            out[at] ^= 1 << rng.randrange(8)
        elif action == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif action == "delete":
            del out[at : at + rng.randint(1, 256)]
        elif action == "cut":
            del out[at:]
        else:
            out[at:at] = out[at : at + rng.randint(1, 4096)] * rng.randint(1, 8)
    return bytes(out)


async def main(fuzz: int) -> None:
    workers = MediaWorkers(1, deadline_s=15.0)
    with canary_server() as canary, tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows: list[tuple[str, str, float, float]] = []
        for case in CASES:
            rows.append(
                (f"corpus: {case.name}", *await run(workers, case.kind, case.write(tmp, canary.url), tmp))
            )
        for name, make in LARGEST.items():
            src = tmp / name
            src.write_bytes(make())
            rows.append((f"largest accepted: {name}", *await run(workers, "image", src, tmp / "out")))
        print(f"{'case':<58} {'outcome':<24} {'MiB':>7} {'s':>6}")
        for name, outcome, mib, seconds in rows:
            print(f"{name[:58]:<58} {outcome:<24} {mib:>7.1f} {seconds:>6.2f}")
        worst_mib = max(row[2] for row in rows)
        worst_s = max(row[3] for row in rows)
        print(
            f"\n{len(CASES)} corpus files + {len(LARGEST)} largest accepted: "
            f"worst growth {worst_mib:.1f} MiB, worst time {worst_s:.2f} s; "
            f"canary requests: {len(canary.requests)}"
        )
        if fuzz:
            rng = random.Random(9)
            seeded = seeds()
            names = sorted(seeded)
            outcomes: dict[str, int] = {}
            fuzz_mib = fuzz_s = 0.0
            for number in range(fuzz):
                name = rng.choice(names)
                kind, data = seeded[name]
                src = tmp / f"fuzz-{number}-{name}"
                src.write_bytes(mutate(data, rng))
                outcome, mib, seconds = await run(workers, kind, src, tmp / "fuzz-out")
                src.unlink()
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                fuzz_mib, fuzz_s = max(fuzz_mib, mib), max(fuzz_s, seconds)
            print(
                f"{fuzz} mutated files: worst growth {fuzz_mib:.1f} MiB, worst time {fuzz_s:.2f} s; "
                f"outcomes {dict(sorted(outcomes.items(), key=lambda kv: -kv[1]))}"
            )
    await workers.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=2000)
    asyncio.run(main(parser.parse_args().fuzz))
