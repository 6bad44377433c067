"""The webhook door in front of an app: deliveries are answered by the inbox before the app's routing
(checked in the same order as the route did), every other request reaches the app untouched."""

from __future__ import annotations

import json
import time

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from demo_app.replicate import Prediction, SigningKey
from demo_app.webhooks import Receipt, WebhookDoor, WebhookInbox, WebhookLinks

KEY = SigningKey(b"the account's signing key.......")
BODY = json.dumps({"id": "p1", "status": "processing", "logs": "12%|#   | 12/100"}).encode()
CAP = 4096


def signed(webhook_id: str, body: bytes = BODY) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + KEY.sign(webhook_id, stamp, body),
    }


class Studio:
    """An app with the door in front, and what its inbox offered to jobs and its own routes served."""

    def __init__(self) -> None:
        self.offered: list[tuple[str, Prediction]] = []
        self.served: list[str] = []
        self.links = WebhookLinks("http://127.0.0.1:7860", b"address secret")

        async def key(*, refresh: bool = False) -> SigningKey:
            return KEY

        async def target(job_id: str, prediction: Prediction) -> Receipt:
            self.offered.append((job_id, prediction))
            return Receipt.APPLIED

        inbox = WebhookInbox(self.links, key, target, tolerance_s=300)

        async def current() -> WebhookInbox:
            return inbox

        async def page(request: Request) -> PlainTextResponse:
            self.served.append(request.url.path)
            return PlainTextResponse("the page")

        self.app = Starlette(
            routes=[Route("/{rest:path}", page, methods=["GET", "POST"])],
            middleware=[Middleware(WebhookDoor, inbox=current, max_body_bytes=CAP)],
        )

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1:7860"
        )


async def test_a_signed_delivery_reaches_its_job_and_a_repeat_changes_nothing() -> None:
    studio = Studio()
    url = studio.links.url_for("job-1")
    async with studio.client() as http:
        first = await http.post(url, content=BODY, headers=signed("msg_1"))
        again = await http.post(url, content=BODY, headers=signed("msg_1"))
    assert (first.status_code, first.text) == (200, "Received (applied).")
    assert (again.status_code, again.text) == (200, "Already received.")
    assert [(job_id, p.id, p.logs) for job_id, p in studio.offered] == [("job-1", "p1", "12%|#   | 12/100")]
    assert studio.served == []


async def test_forged_oversized_and_misaddressed_deliveries_are_refused_before_any_job_sees_them() -> None:
    studio = Studio()
    url = studio.links.url_for("job-1")
    big = b"x" * (CAP + 1)
    async with studio.client() as http:
        forged = await http.post(
            url, content=BODY, headers={**signed("msg_2"), "webhook-signature": "v1,AAAA"}
        )
        not_ours = await http.post(url.rsplit("/", 1)[0] + "/forged", content=BODY, headers=signed("msg_3"))
        oversized = await http.post(url, content=big, headers=signed("msg_4", big))

        async def streamed():  # no length declared: the cap applies while the body arrives
            for _ in range(3):
                yield b"x" * (CAP // 2)

        streamed_over = await http.post(url, content=streamed(), headers=signed("msg_5"))
        not_a_prediction = await http.post(url, content=b"[1]", headers=signed("msg_6", b"[1]"))
        extra_segment = await http.post(url + "/more", content=BODY, headers=signed("msg_7"))
        read = await http.get(url)
    assert forged.status_code == 401
    assert (not_ours.status_code, not_ours.text) == (403, "This webhook address was not issued by this app.")
    assert oversized.status_code == 413 and streamed_over.status_code == 413
    assert not_a_prediction.status_code == 400
    assert extra_segment.status_code == 404
    assert (read.status_code, read.headers["allow"]) == (405, "POST")
    assert studio.offered == []
    assert studio.served == []


async def test_every_other_request_reaches_the_app() -> None:
    studio = Studio()
    async with studio.client() as http:
        page = await http.get("/gradio_api/info")
        posted = await http.post("/webhooks/other", content=b"{}")
    assert (page.status_code, page.text) == (200, "the page")
    assert posted.status_code == 200
    assert studio.served == ["/gradio_api/info", "/webhooks/other"]
