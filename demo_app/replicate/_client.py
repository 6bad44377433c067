"""`ReplicateClient`: Replicate's predictions, files and model endpoints over one shared async httpx client.

Layers, outermost first: an operation (create, get, …) picks its retry rule, `with_retries`
waits and repeats, `_send` makes one request and turns error statuses into typed errors, and
`translated_errors` turns httpx exceptions into ours. The same code talks to api.replicate.com
and to the built-in engine; only `base_url` and `transport` differ.

Every request to the API passes `_send`, which first waits for its budget (`Pacing`): creates
for the create bucket, everything else (polls, list pages, uploads, cancels — cancels first,
deletes of uploaded files last, in the spare lane — and whatever later calls are added) for the
read bucket. Pacing here, at the one door, means no
caller can forget it and a retry pays like any other request. Output downloads go to the file
delivery host, not the API, and are not paced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Container, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ._download import save_data_url, stream_to_file
from ._files import FileInput, FileObject, encode_data_url
from ._headers import cancel_after
from ._model import MAX_MODEL_BYTES, ModelInfo, ModelVersion
from ._pacing import Call, Pacing
from ._prediction import Prediction
from ._problem import error_from_response
from ._redirects import RedirectPolicy, Resolver, resolve_host
from ._retry import RetryPolicy, describe, is_ambiguous, surely_not_received, with_retries
from ._transport import build_http_client, origin, translated_errors
from ._webhook import SigningKey
from .errors import CreateOutcomeUnknown, NotFound, ReplicateError, ResponseTooLarge, UnexpectedResponse

logger = logging.getLogger(__name__)

CREATE_CLOCK_MARGIN = timedelta(seconds=60)
"""How far before our send time a matching prediction may be dated (clock skew between hosts);
also what the jobs use when they look for a create again after a restart."""
_REMEMBERED_IDS = 1024

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class _Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    next: str | None = None
    results: list[dict[str, Any]] = Field(default_factory=list)


class _WebhookSecret(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: SecretStr


class ReplicateClient:
    """Async client of Replicate's HTTP API; share one instance, close it with `aclose()`."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr | str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_connections: int = 200,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Resolver = resolve_host,
        pacing: Pacing | None = None,
    ) -> None:
        if isinstance(token, str):
            token = SecretStr(token)
        self._token = token if token is not None and token.get_secret_value() else None
        self._base_url = str(base_url).rstrip("/")
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.pacing = pacing or Pacing.per_minute()
        """The budgets every request waits for; the jobs' create line takes create tokens from it."""
        self._http = build_http_client(
            self._base_url, self._token, transport=transport, timeout=timeout, max_connections=max_connections
        )
        self._signing_key: SigningKey | None = None
        self._signing_key_lock = asyncio.Lock()
        self._returned_ids: OrderedDict[str, None] = OrderedDict()
        self._redirects = RedirectPolicy(origin(httpx.URL(self._base_url)), resolve)

    def __repr__(self) -> str:
        token = "[secure]" if self._token is not None else None
        return f"ReplicateClient(base_url={self._base_url!r}, token={token})"

    # --- predictions -----------------------------------------------------------------

    async def create_prediction(
        self,
        *,
        model: str | None = None,
        version: str | None = None,
        input: dict[str, Any],
        cancel_after_s: float | None = None,
        prepaid: bool = False,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> Prediction:
        """Start a prediction by official model (`owner/name`) or by version; with `webhook`,
        Replicate pushes the events in `webhook_events_filter` to that address.

        Each POST takes a token from `pacing.creates`; with `prepaid` the caller already took the
        first one (the jobs' create line does, so that wait can be abandoned on cancel).

        Never blindly re-sent once it may have reached the server: after an ambiguous failure
        (dropped connection, read time-out, 5xx) recent predictions are listed and matched on
        `input`; found -> returned, proven absent -> sent once more, unresolvable ->
        `CreateOutcomeUnknown`. Throttling and connect failures are retried with backoff.
        """
        path, body = _create_target(model, version, input)
        if webhook is not None:
            body["webhook"] = webhook
            if webhook_events_filter is not None:
                body["webhook_events_filter"] = list(webhook_events_filter)
        headers: dict[str, str] = {}
        if cancel_after_s is not None:
            headers["Cancel-After"] = cancel_after(cancel_after_s)
        what = f"POST {path}"
        resent = False
        retry = 0
        paid = prepaid
        while True:
            if not paid:
                await self.pacing.admit(Call.CREATE)
            paid = False
            sent_at = datetime.now(UTC)
            try:
                response = await self._send(
                    "POST", path, what=what, json=body, headers=headers, call=None
                )
                return self._remember(self._prediction(response, what))
            except ReplicateError as error:
                if surely_not_received(error):
                    retry += 1
                    if retry >= self._retry.max_attempts:
                        raise
                    wait = self._retry.delay(retry, error)
                    logger.info("%s not received (%s); retry in %.2f s", what, describe(error), wait)
                    await self._sleep(wait)
                    continue
                if not is_ambiguous(error):
                    raise
                found = await self._resolve_ambiguous_create(body["input"], sent_at, error, what)
                if found is not None:
                    return self._remember(found)
                if resent:
                    raise
                resent = True
                logger.warning("%s proven not created after %s; sending it once more", what, describe(error))

    async def _resolve_ambiguous_create(
        self, input: dict[str, Any], sent_at: datetime, error: ReplicateError, what: str
    ) -> Prediction | None:
        logger.warning("%s may have reached Replicate (%s); looking for it", what, describe(error))
        await self._sleep(self._retry.delay(1))
        try:
            # Predictions this client already handed out answer other creates, never this one.
            return await self._find(
                input,
                created_after=sent_at - CREATE_CLOCK_MARGIN,
                skip=self._returned_ids,
            )
        except ReplicateError as lookup_error:
            raise CreateOutcomeUnknown(
                "The request to start the prediction broke off, and Replicate could not be asked "
                "whether it started. Check the Replicate dashboard before trying again, "
                "or it may run (and be charged) twice."
            ) from lookup_error

    async def find_prediction(self, input: dict[str, Any], *, created_after: datetime) -> Prediction | None:
        """The newest prediction created after `created_after` whose input equals `input`."""
        return await self._find(input, created_after=created_after, skip=frozenset())

    async def _find(
        self, input: dict[str, Any], *, created_after: datetime, skip: Container[str]
    ) -> Prediction | None:
        wanted = _canonical(input)
        since = _aware(created_after)
        pages = self.list_predictions(created_after=since)
        async with contextlib.aclosing(pages):
            async for listed in pages:
                if listed.created_at is not None and _aware(listed.created_at) < since:
                    return None  # newest first: everything after this is older still
                if listed.id in skip:
                    continue
                full = listed if "input" in listed.model_fields_set else await self.get_prediction(listed.id)
                if _canonical(full.input) == wanted:
                    return full
        return None

    async def get_prediction(self, prediction_id: str) -> Prediction:
        """The prediction's current state; retried on throttling, 5xx and network errors."""
        path = f"/v1/predictions/{quote(prediction_id, safe='')}"
        return await self._retried(lambda: self._fetch_prediction("GET", path), f"GET {path}")

    async def cancel_prediction(self, prediction_id: str) -> Prediction:
        """Ask Replicate to stop it; retried like a GET because cancelling twice changes nothing."""
        path = f"/v1/predictions/{quote(prediction_id, safe='')}/cancel"
        return await self._retried(
            lambda: self._fetch_prediction("POST", path, call=Call.CANCEL), f"POST {path}"
        )

    async def list_predictions(
        self, *, created_after: datetime | None = None
    ) -> AsyncGenerator[Prediction, None]:
        """Every prediction, newest first, following each page's `next` URL as given."""
        url: str | None = "/v1/predictions"
        params = {"created_after": _aware(created_after).isoformat()} if created_after else None
        while url is not None:
            page = await self._retried(_bind(self._fetch_page, url, params), "GET /v1/predictions")
            for item in page.results:
                yield self._validate(Prediction, item, "GET /v1/predictions")
            url, params = page.next, None

    async def webhook_signing_key(self, *, refresh: bool = False) -> SigningKey:
        """The account's webhook signing key, read once and cached (`refresh` reads it again)."""
        async with self._signing_key_lock:
            if self._signing_key is None or refresh:
                what = "GET /v1/webhooks/default/secret"

                async def once() -> SigningKey:
                    response = await self._send("GET", "/v1/webhooks/default/secret", what=what)
                    secret = self._validate(_WebhookSecret, _json(response, what), what)
                    try:
                        return SigningKey.parse(secret.key.get_secret_value())
                    except ValueError as exc:
                        raise UnexpectedResponse(
                            f"Replicate sent a webhook secret this client does not understand ({what})."
                        ) from exc

                self._signing_key = await self._retried(once, what)
            return self._signing_key

    # --- files -------------------------------------------------------------------------

    async def upload_file(self, path: Path, *, content_type: str) -> FileObject:
        """Upload through the Files API; its `urls.get` can be passed as a file input.

        The file is read (on a worker thread, not the event loop's) once the read budget lets
        the call go: a thousand uploads waiting their turn hold their paths, not their bytes.
        Retried on transient errors: a duplicate upload only leaves an unused file behind.
        """
        data = {"filename": path.name, "type": content_type}

        async def once() -> FileObject:
            await self.pacing.admit(Call.READ)
            files = {"content": (path.name, await asyncio.to_thread(path.read_bytes), content_type)}
            response = await self._send(
                "POST", "/v1/files", what="POST /v1/files", files=files, data=data, call=None
            )
            return self._validate(FileObject, _json(response, "POST /v1/files"), "POST /v1/files")

        return await self._retried(once, "POST /v1/files")

    async def file_input(
        self, path: Path, *, content_type: str, inline_max_bytes: int = 256 * 1024
    ) -> FileInput:
        """What to put in `input` for a local file: a `data:` URL if small, else an uploaded file's URL.

        An inline file travels again in every read of the prediction (its `input` is part of the
        body), so keep `inline_max_bytes` small where predictions are read often.
        """
        size = (await asyncio.to_thread(path.stat)).st_size
        if size <= inline_max_bytes:
            return FileInput(encode_data_url(await asyncio.to_thread(path.read_bytes), content_type))
        uploaded = await self.upload_file(path, content_type=content_type)
        return FileInput(uploaded.urls.get, uploaded)

    async def delete_file(self, file_id: str) -> None:
        """Delete an uploaded file; one already gone (deleted, expired) counts as deleted.

        Sent in the read budget's spare lane (`Call.SPARE`): only when no poll, upload or cancel
        waits, since a file left a while longer costs nothing (and expires on its own).
        """
        path = f"/v1/files/{quote(file_id, safe='')}"

        async def once() -> None:
            with contextlib.suppress(NotFound):
                await self._send("DELETE", path, what=f"DELETE {path}", call=Call.SPARE)

        await self._retried(once, f"DELETE {path}")

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Copy an output file to `dest` (atomically, at most `max_bytes`); returns its size.

        The token goes only to the API's own host; `data:` outputs are decoded locally; a
        redirect is followed only to a public https host or the API's own (`UnsafeRedirect`).
        """
        if url.startswith("data:"):
            return await save_data_url(url, dest, max_bytes=max_bytes)
        if httpx.URL(url).scheme not in ("http", "https", ""):
            raise UnexpectedResponse("Replicate returned a result address that cannot be downloaded.")
        secret = self._secret()
        return await self._retried(
            lambda: stream_to_file(
                self._http, url, dest, max_bytes=max_bytes, secret=secret, policy=self._redirects
            ),
            f"download {httpx.URL(url).path}",
        )

    # --- models ------------------------------------------------------------------------

    async def get_model(self, model: str, *, max_bytes: int = MAX_MODEL_BYTES) -> ModelInfo:
        """The model (`owner/name`) and its latest version with its input schema.

        The body is read up to `max_bytes` (`ResponseTooLarge` past it); a schema that is not a
        JSON object is an `UnexpectedResponse`. Retried like any GET.
        """
        path = _model_path(model)
        return await self._retried(lambda: self._fetch_capped(ModelInfo, path, max_bytes), f"GET {path}")

    async def get_model_version(
        self, model: str, version: str, *, max_bytes: int = MAX_MODEL_BYTES
    ) -> ModelVersion:
        """One version of the model, with its input schema; bounded and validated like `get_model`."""
        path = f"{_model_path(model)}/versions/{quote(version, safe='')}"
        return await self._retried(lambda: self._fetch_capped(ModelVersion, path, max_bytes), f"GET {path}")

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    # --- one request -------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        files: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        call: Call | None = Call.READ,
    ) -> httpx.Response:
        """One request, once its budget allows (`call=None`: the caller paid already); an error
        status becomes the matching `APIError`."""
        if call is not None:
            await self.pacing.admit(call)
        with translated_errors(what):
            response = await self._http.request(
                method,
                url,
                json=json,
                params=params,
                files=files,
                data=data,
                headers=headers,
            )
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code, response.headers, response.content, secret=self._secret()
            )
        return response

    async def _fetch_prediction(self, method: str, path: str, *, call: Call = Call.READ) -> Prediction:
        what = f"{method} {path}"
        return self._prediction(await self._send(method, path, what=what, call=call), what)

    async def _fetch_page(self, url: str, params: dict[str, str] | None) -> _Page:
        response = await self._send("GET", url, what="GET /v1/predictions", params=params)
        return self._validate(_Page, _json(response, "GET /v1/predictions"), "GET /v1/predictions")

    async def _fetch_capped(self, model: type[M], path: str, max_bytes: int) -> M:
        """GET a JSON body of at most `max_bytes` (counted while reading, whatever the headers say)."""
        what = f"GET {path}"
        await self.pacing.admit(Call.READ)
        with translated_errors(what):
            async with self._http.stream("GET", path) as response:
                body = await _read_capped(response, max_bytes, what)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.headers, body, secret=self._secret())
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise UnexpectedResponse(
                f"Replicate sent a response that is not JSON ({what}). Try again later."
            ) from exc
        return self._validate(model, data, what)

    def _prediction(self, response: httpx.Response, what: str) -> Prediction:
        return self._validate(Prediction, _json(response, what), what)

    @staticmethod
    def _validate(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedResponse(
                f"Replicate sent a response this client does not understand ({what}). Try again later."
            ) from exc

    async def _retried(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        return await with_retries(operation, policy=self._retry, sleep=self._sleep, what=what)

    def _remember(self, prediction: Prediction) -> Prediction:
        self._returned_ids[prediction.id] = None
        while len(self._returned_ids) > _REMEMBERED_IDS:
            self._returned_ids.popitem(last=False)
        return prediction

    def _secret(self) -> str | None:
        return self._token.get_secret_value() if self._token is not None else None


def _create_target(
    model: str | None, version: str | None, input: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """(path, body) of a create: the official-model endpoint or the version endpoint."""
    if (model is None) == (version is None):
        raise ValueError("Pass exactly one of model ('owner/name') or version.")
    if model is not None:
        return f"{_model_path(model)}/predictions", {"input": input}
    return "/v1/predictions", {"version": version, "input": input}


def _model_path(model: str) -> str:
    owner, _, name = model.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"A model is written 'owner/name', got {model!r}.")
    return f"/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}"


async def _read_capped(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    """The whole body, refused as soon as it passes `max_bytes` (declared or counted)."""
    too_large = ResponseTooLarge(
        f"Replicate sent a response larger than {max_bytes:,} bytes ({what}); it was not read.",
        max_bytes=max_bytes,
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def _bind(
    fetch: Callable[[str, dict[str, str] | None], Awaitable[_Page]], url: str, params: dict[str, str] | None
) -> Callable[[], Awaitable[_Page]]:
    """A page fetch with its arguments fixed, for `with_retries` to repeat."""
    return lambda: fetch(url, params)


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise UnexpectedResponse(
            f"Replicate sent a response that is not JSON ({what}). Try again later."
        ) from exc


def _canonical(value: dict[str, Any]) -> str:
    """Inputs compared as the JSON the server stored: key order and tuple/list do not matter."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
