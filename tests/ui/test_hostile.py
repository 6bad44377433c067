"""The launched app against hostile callers: files only from uploads, nothing fetched for anyone,
bounded bodies and uploads, and a sentence for every bad argument (API and page events alike).

Links point at a canary HTTP server on loopback under a public-looking name. Gradio refuses to
fetch private addresses, so the test resolves that name to the canary the way a public address
would resolve (in this process, where the app runs): the control test shows Gradio then really
fetches it when the guard is not in front.
"""

from __future__ import annotations

import http.server
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import safehttpx
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from gradio_client.exceptions import ValidationError as ClientValidationError

from demo_app.server import build_app
from demo_app.settings import Settings
from tests.ui.conftest import AppFactory, RunningApp, free_port
from tests.ui.raw import RawSession

pytestmark = pytest.mark.slow

META = {"_type": "gradio.FileData"}
CANARY_HOST = "media.lipsync-canary.com"
GENERIC = "upstream Gradio app has raised an exception"
UPLOAD_ONLY = "handle_file"
MODEL = "wan-video/wan-2.2-s2v"
KLING = "kwaivgi/kling-avatar-v2"


class Canary:
    """An HTTP server on loopback that records every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.paths.append(self.path)
                body = b"RIFF" + b"\x00" * 64
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://{CANARY_HOST}:{self.port}/{name}"


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Canary]:
    """The canary, and its public-looking name resolving to it as a public address would."""
    server = Canary()
    real_validate = safehttpx.async_validate_url

    async def resolve(hostname: str) -> str:
        return "127.0.0.1" if hostname == CANARY_HOST else await real_validate(hostname)

    monkeypatch.setattr(safehttpx, "async_validate_url", resolve)
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app(engine_scenario="stall")


@pytest.fixture
def session(app: RunningApp) -> Iterator[RawSession]:
    """A page session that has loaded (so its owner is known), driven over raw HTTP."""
    raw = RawSession(app)
    loaded = raw.join("page_load", [None])
    assert loaded.output is not None, loaded.error
    yield raw
    raw.close()


def refusal(call: Callable[[], Any]) -> str:
    """The sentence a gradio_client call was refused with."""
    with pytest.raises((AppError, ClientValidationError)) as caught:
        call()
    message = str(caught.value)
    assert GENERIC not in message and "Traceback" not in message
    return message


def page_args(raw: RawSession, event: str, **values: Any) -> list[Any]:
    """The data list of a page event: its inputs by component kind or label, None elsewhere."""
    fn = raw.app.demo.fns[raw.fn_index[event]]
    data: list[Any] = []
    for block in fn.inputs:
        kind = type(block).__name__
        label = getattr(block, "label", None)
        if kind == "Image":
            data.append(values.get("image"))
        elif kind == "Audio":
            data.append(values.get("audio"))
        elif label == "Model":
            data.append(values.get("model", MODEL))
        else:
            data.append(values.get(label) if isinstance(label, str) else None)
    return data


# ---- nothing is fetched -----------------------------------------------------------------------


def test_control_without_the_guard_gradio_fetches_a_link_before_our_code_runs(
    canary: Canary, short_voice: Path, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, server_port=free_port(), replicate_api_token=None)
    demo, kwargs = build_app(settings)
    kwargs["app_kwargs"]["middleware"] = []
    demo.launch(**kwargs, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{settings.server_port}/", verbose=False)
        key = RunningApp(client.src, settings, demo).api_key("browser:control")
        message = refusal(
            lambda: client.predict(
                key, handle_file(canary.url("face.png")), handle_file(short_voice), api_name="/start"
            )
        )
        client.close()
    finally:
        demo.close()
    assert canary.paths == ["/face.png"]  # Gradio downloaded it; only then did our policy refuse
    assert UPLOAD_ONLY in message


def test_links_are_refused_everywhere_and_never_fetched(
    app: RunningApp,
    connect: Callable[[RunningApp], Client],
    session: RawSession,
    canary: Canary,
    short_voice: Path,
) -> None:
    client = connect(app)
    key = app.api_key("browser:linker")
    link = handle_file(canary.url("face.png"))
    for endpoint in ("/start", "/generate"):
        message = refusal(lambda e=endpoint: client.predict(key, link, handle_file(short_voice), api_name=e))  # type: ignore[misc]
        assert "not linked" in message and UPLOAD_ONLY in message
    for kind in ("image", "audio"):
        linked = {"path": canary.url("voice.wav"), "meta": META}
        for event in ("page_quote", "page_generate"):
            answer = session.join(event, page_args(session, event, **{kind: linked}))
            assert answer.status_code == 422 and answer.error is not None
            assert "does not download links" in answer.error
    for route in (f"/gradio_api/file={canary.url('x.wav')}", f"/gradio_api/proxy={canary.url('x.wav')}"):
        response = httpx.get(app.url.rstrip("/") + route)
        assert response.status_code == 403
        assert response.json()["error"] == "This server serves only its own files; it does not fetch links."
    assert canary.paths == []


# ---- files come only from uploads -------------------------------------------------------------


def test_server_paths_and_files_never_uploaded_are_refused(
    app: RunningApp,
    connect: Callable[[RunningApp], Client],
    session: RawSession,
    short_voice: Path,
    tmp_path: Path,
) -> None:
    client = connect(app)
    key = app.api_key("browser:prowler")
    voice = handle_file(short_voice)
    folder = Path(get_upload_folder())
    planted = folder / secrets.token_hex(8) / "planted.png"  # in the folder, never uploaded
    planted.parent.mkdir(parents=True)
    planted.write_bytes((Path(__file__).parents[2] / "assets" / "sample-face.png").read_bytes())
    link = folder / secrets.token_hex(8) / "face.png"
    link.parent.mkdir(parents=True)
    link.symlink_to("/etc/hostname")
    try:
        for value in (
            "/etc/hostname",
            {"path": "/etc/hostname"},
            {"path": "/proc/self/fd/0"},
            {"path": str(planted)},
        ):
            message = refusal(lambda v=value: client.predict(key, v, voice, api_name="/start"))  # type: ignore[misc]
            assert "Send the image as a file you upload" in message
        # Dicts that Gradio itself would check (they carry meta): refused by the guard, in a sentence.
        for path in ("/etc/hostname", "/proc/self/fd/0", str(link), f"{folder}/../etc/hostname"):
            answer = session.join("start", [key, {"path": path, "meta": META}, None, MODEL, "{}", "{}"])
            assert answer.status_code == 422 and answer.error is not None
            assert "Files must be ones you uploaded to this app" in answer.error
        # In the folder but never uploaded: past the guard, refused by the policy (gradio_client would
        # upload a local file itself, so this one goes raw).
        answer = session.join("start", [key, {"path": str(planted), "meta": META}, None, MODEL, "{}", "{}"])
        assert answer.error is not None and "Send the image as a file you upload" in answer.error
        for value in ({"path": "/etc/hostname"}, {"path": str(planted), "meta": META}):
            answer = session.join("page_quote", page_args(session, "page_quote", image=value))
            assert answer.error is not None and "Choose the face image again" in answer.error
    finally:
        planted.unlink()
        link.unlink()
    assert client.predict(key, api_name="/credits")["open_holds"] == []


def test_the_sample_buttons_files_are_accepted(app: RunningApp, session: RawSession) -> None:
    response = session.http.post(
        "/gradio_api/run/predict",
        json={
            "data": [0],
            "fn_index": session.fn_index["load_example"],
            "session_hash": session.session_hash,
        },
    )
    face, voice = (update["value"] for update in response.json()["data"])
    answer = session.join("page_quote", page_args(session, "page_quote", image=face, audio=voice))
    assert answer.error is None and answer.output is not None
    assert "12.7 s of audio" in str(answer.output[0])


def test_the_estimate_follows_the_option_that_sets_the_price(app: RunningApp, session: RawSession) -> None:
    """Kling's pro mode costs about twice its standard mode per second: the estimate says so."""
    response = session.http.post(
        "/gradio_api/run/predict",
        json={
            "data": [0],
            "fn_index": session.fn_index["load_example"],
            "session_hash": session.session_hash,
        },
    )
    face, voice = (update["value"] for update in response.json()["data"])
    figures = {}
    for mode in ("std", "pro"):
        args = page_args(session, "page_quote", image=face, audio=voice, model=KLING, Quality=mode)
        answer = session.join("page_quote", args)
        assert answer.error is None and answer.output is not None
        found = re.search(r"(?:≈|needs) \$([0-9.]+)", str(answer.output[0]))
        assert found is not None, answer.output[0]
        figures[mode] = float(found[1])
    assert 1.9 < figures["pro"] / figures["std"] < 2.0  # $0.11 against $0.056 a second


# ---- every refusal is a sentence -------------------------------------------------------------


BAD_CALLS: list[tuple[str, Callable[[str, Any], tuple[Any, ...]], str]] = [
    ("/credits", lambda key, f: ("ключ.подпись",), "API key is not valid"),
    ("/credits", lambda key, f: ("k" * 5000,), "API key is not valid"),
    ("/credits", lambda key, f: (None,), "API key is not valid"),
    ("/credits", lambda key, f: (12345,), "API key is not valid"),
    ("/credits", lambda key, f: ([key],), "API key is not valid"),
    ("/status", lambda key, f: (key, 12345), "job_id must be the text /start returned"),
    ("/status", lambda key, f: (key, None), "job_id must be the text /start returned"),
    ("/status", lambda key, f: (key, "j" * 10_000), "job_id must be the text /start returned"),
    ("/cancel", lambda key, f: (key, {"job_id": "x"}), "job_id must be the text /start returned"),
    ("/cancel", lambda key, f: (key, "no-such-job"), "No such job"),
    ("/start", lambda key, f: (key, f, f, MODEL, '{"seed": ' + "9" * 5000 + "}"), "more than 4096"),
    ("/start", lambda key, f: (key, f, f, MODEL, "[" * 3000), "not valid JSON"),
    ("/start", lambda key, f: (key, f, f, MODEL, '{"seed": {"a": {"b": 1}}}'), "holds a list or an object"),
    ("/start", lambda key, f: (key, f, f, MODEL, 7), "options_json must be a JSON object"),
    ("/start", lambda key, f: (key, f, f, None, "{}"), "model must be one of"),
    ("/start", lambda key, f: (key, f, f, ["x"], "{}"), "model must be one of"),
    ("/start", lambda key, f: (key, f, f, "x" * 500, "{}"), "model must be one of"),
    ("/start", lambda key, f: (key, [f, f], f, MODEL, "{}"), "Send the image as a file you upload"),
    ("/start", lambda key, f: (key, f, 17, MODEL, "{}"), "Send the audio as a file you upload"),
    ("/start", lambda key, f: (key, f, None, MODEL, "{}"), "Send the audio as a file you upload"),
    ("/generate", lambda key, f: (key, {"path": None, "meta": META}, f, MODEL, "{}"), "Send the image"),
]


@pytest.mark.parametrize(("endpoint", "arguments", "fragment"), BAD_CALLS)
def test_every_bad_api_argument_gets_a_sentence(
    app: RunningApp,
    connect: Callable[[RunningApp], Client],
    short_voice: Path,
    endpoint: str,
    arguments: Callable[[str, Any], tuple[Any, ...]],
    fragment: str,
) -> None:
    client = connect(app)
    key = app.api_key("browser:fuzzer")
    message = refusal(lambda: client.predict(*arguments(key, handle_file(short_voice)), api_name=endpoint))
    assert fragment in message


def test_a_five_thousand_digit_seed_that_fits_the_size_limit_is_refused_by_the_option(
    app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    client = connect(app)
    key = app.api_key("browser:seeder")
    options = '{"seed": ' + "9" * 4000 + "}"
    files = handle_file(face), handle_file(short_voice)
    message = refusal(lambda: client.predict(key, *files, MODEL, options, api_name="/generate"))
    assert "“Seed” must be between 0 and 2147483647; got a number of 4000 digits." in message
    assert client.predict(key, api_name="/credits")["held"] == 0


def test_page_events_called_by_index_answer_bad_arguments_in_sentences(session: RawSession) -> None:
    quote = session.join("page_quote", page_args(session, "page_quote", model=["x"]))
    assert quote.error is not None and "model must be one of" in quote.error
    for event in ("page_choose_model", "page_about_on_load"):
        about = session.join(event, [["x"]])  # the menu itself refuses what it does not list
        assert about.error is not None and "not in the list of choices" in about.error, event
        listed = session.join(event, ["veed/fabric-1.0"])
        assert listed.output is not None and "Fabric" in str(listed.output), event
    # File arguments Gradio would fail on before our handler: refused first, in a sentence.
    for image in (
        [1, 2],
        5,
        "face.png",
        {"path": "/x", "meta": "gradio.FileData"},
        {"path": 5, "meta": META},
    ):
        odd = session.join("page_generate", page_args(session, "page_generate", image=image))
        assert odd.status_code == 422 and odd.error is not None
        assert odd.error.startswith("A file argument is malformed: choose the file again on the page")
    api = session.join(
        "generate", [session.app.api_key("browser:x"), {"meta": "x", "path": "/x"}, None, MODEL, "{}", "{}"]
    )
    assert api.status_code == 422 and api.error is not None and "malformed" in api.error
    # A browser key of the wrong shape is just a new visitor.
    for browser_key in ("ключ", 5, ["k"], "k" * 5000):
        loaded = session.join("page_load", [browser_key])
        assert loaded.output is not None, loaded.error


def test_event_bodies_are_bounded_in_size_and_depth(session: RawSession) -> None:
    big = session.join("page_quote", [None, "x" * 100_000, None, None])
    assert big.status_code == 422 and big.error == "The request is larger than the 64 KB an event may carry."
    nested: Any = 1
    for _ in range(40):
        nested = [nested]
    deep = session.join("page_quote", [None, nested, None, None])
    assert deep.status_code == 422 and deep.error == "The arguments are nested more than 12 levels deep."
    unreadable = session.post_join(b'{"data": [' + b"9" * 5000 + b'], "fn_index": 0, "session_hash": "s"}')
    assert unreadable.status_code == 422 and unreadable.error is not None
    assert unreadable.error.startswith("The request could not be read")


# ---- uploads are bounded ---------------------------------------------------------------------


def upload(url: str, size: int, name: str = "voice.wav") -> httpx.Response:
    files = {"files": (name, os.urandom(size), "audio/wav")}
    return httpx.post(url.rstrip("/") + "/gradio_api/upload", files=files, timeout=30)


def test_uploads_are_bounded_per_file_per_address_and_must_declare_their_length(
    start_app: AppFactory,
) -> None:
    small = start_app(max_upload_mb=1, upload_mb_per_address_per_hour=2.5)
    too_big = upload(small.url, 1024 * 1024 + 100 * 1024)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "The file is over the 1 MB this app takes; send a smaller one."
    paths = [upload(small.url, 900 * 1024).json()[0] for _ in range(2)]
    assert all(path in small.demo.upload_file_set for path in paths)
    over = upload(small.url, 900 * 1024)
    assert over.status_code == 429
    assert over.json()["error"].startswith(
        "You have uploaded 2.5 MB in the last hour, the most one address may"
    )

    def chunks() -> Iterator[bytes]:
        yield b"--x\r\n"

    unsized = httpx.post(small.url.rstrip("/") + "/gradio_api/upload", content=chunks(), timeout=30)
    assert unsized.status_code == 411
    assert unsized.json()["error"] == "Send the upload with a Content-Length header."


# ---- Gradio's cache is swept -----------------------------------------------------------------


def test_old_uploads_leave_gradios_cache_and_the_examples_stay(start_app: AppFactory) -> None:
    swept = start_app(upload_keep_s=0.5, cache_sweep_every_s=0.1)
    path = upload(swept.url, 1000).json()[0]
    assert os.path.exists(path)
    deadline = time.monotonic() + 20
    while (os.path.exists(path) or path in swept.demo.upload_file_set) and time.monotonic() < deadline:
        time.sleep(0.05)  # the sweeper has no event to wait on; poll with a deadline
    assert not os.path.exists(path)
    assert path not in swept.demo.upload_file_set  # Gradio's in-memory set forgets it too
    raw = RawSession(swept)
    try:
        response = raw.http.post(
            "/gradio_api/run/predict",
            json={"data": [0], "fn_index": raw.fn_index["load_example"], "session_hash": raw.session_hash},
        )
        examples = [update["value"]["path"] for update in response.json()["data"]]
    finally:
        raw.close()
    assert examples and all(os.path.exists(example) for example in examples)
