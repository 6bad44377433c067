"""Owners with no credits starting at once: how soon each gets its refusal, through the public API.

The app is launched on the built-in engine with no starting grant; N API keys (N owners with
0 credits) each call `/start` at the same moment with the sample face and voice through
`gradio_client`, as a researcher's script would. The figure is each call's wall time, from
`predict()` to its refusal (the two uploads included), and whether any media work happened.

    python bench/admission.py [--owners 40]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gradio_client import Client, handle_file  # noqa: E402

from demo_app.server import launch  # noqa: E402
from demo_app.settings import Settings  # noqa: E402
from demo_app.visitors import KeyRing  # noqa: E402

FACE = REPO / "assets" / "sample-face.png"
VOICE = REPO / "assets" / "sample-voice.wav"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--owners", type=int, default=40)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-admission-"))
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        server_port=port,
        replicate_api_token=None,
        starting_grant=0,
    )
    demo = launch(settings, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    keys = KeyRing.from_file(data_dir / "api-key-secret")
    clients = [Client(url, verbose=False) for _ in range(args.owners)]
    barrier = threading.Barrier(args.owners)
    times: list[float] = []
    answers: list[str] = []

    def start(index: int) -> None:
        key = keys.key_for(f"browser:broke-{index:04d}")
        barrier.wait()
        began = time.perf_counter()
        try:
            clients[index].predict(key, handle_file(str(FACE)), handle_file(str(VOICE)), api_name="/start")
            answers.append("started")
        except Exception as exc:  # the refusal arrives as gradio_client's AppError
            answers.append(str(exc))
        times.append(time.perf_counter() - began)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(args.owners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    inputs = data_dir / "inputs"
    media_work = inputs.exists() and any(inputs.iterdir())
    demo.close()
    refused = sum("credits" in answer for answer in answers)
    print(f"owners: {args.owners}, refused naming their credits: {refused}, media work done: {media_work}")
    print(
        f"refusal time: p50 {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms (two uploads included)"
    )
    print(f"example: {answers[0]}")


if __name__ == "__main__":
    main()
