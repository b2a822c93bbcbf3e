"""HTTP transport for raw completions (sync httpx). It knows nothing of Harmony.

A :class:`CompletionRequest` goes in; :func:`stream_completion` yields :class:`TextDelta`,
:class:`Usage` and :class:`Finish` events. Three wire formats are read:

- ``"openai"``: ``POST /v1/completions``, SSE ``data: {...}`` chunks ending in ``data: [DONE]``
  (vLLM, SGLang, llama.cpp, LM Studio, hosted servers);
- ``"llamacpp"``: llama.cpp's native ``POST /completion``, SSE chunks ending in ``"stop": true``;
- ``"ollama"``: ``POST /api/generate`` with ``raw: true``, NDJSON lines ending in ``"done": true``.

Retries (connection refused, 429, 5xx) happen only before the first byte of a response; once a
stream has started, a failure raises and the text already yielded stays with the caller. Every
failure is translated into :mod:`gptoss_cli.errors`; messages carry the URL (without credentials)
and never the API key.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from gptoss_cli import errors
from gptoss_cli.transport.urls import redact_url
from gptoss_cli.transport.wire import (
    Finish,
    StreamEvent,
    TextDelta,
    Usage,
    decode_llamacpp,
    decode_ollama,
    decode_openai,
    error_message,
)

# fmt: off
__all__ = [
    "ENDPOINT_PATHS", "NO_RETRY", "PROBE_TIMEOUTS", "Completion", "CompletionRequest", "EndpointKind",
    "Finish", "HTTPClient", "JSONResponse", "ModelInfo", "RetryPolicy", "StreamEvent", "TextDelta",
    "Timeouts", "Usage", "complete", "endpoint_url", "get_json", "list_models", "make_client",
    "normalize_base_url", "parse_models", "redact_url", "server_message", "stream_completion",
    "translate_error",
]
# fmt: on

EndpointKind = Literal["openai", "llamacpp", "ollama"]
ENDPOINT_PATHS: Mapping[str, str] = {
    "openai": "/v1/completions",
    "llamacpp": "/completion",
    "ollama": "/api/generate",
}
USER_AGENT = "gptoss-cli"
HTTPClient = httpx.Client
"""The HTTP client type callers may pass in to reuse connections (keeps httpx imports here)."""


# --------------------------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect, and between two reads (a queued request may be silent a long time)."""

    connect: float = 5.0
    read: float = 600.0
    write: float = 60.0
    pool: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        """The same limits as an ``httpx.Timeout``."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


PROBE_TIMEOUTS = Timeouts(connect=3.0, read=10.0, write=10.0, pool=3.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries before the first byte, with exponential backoff; ``Retry-After`` wins when given."""

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return min(self.max_backoff, self.backoff * float(2**attempt))


NO_RETRY = RetryPolicy(max_retries=0)


@dataclass(frozen=True)
class CompletionRequest:
    """Everything needed to POST one streamed completion. ``body`` holds the profile's extra fields."""

    base_url: str
    prompt: str | Sequence[int]
    model: str | None = None
    endpoint: EndpointKind = "openai"
    body: Mapping[str, Any] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINT_PATHS:
            raise ValueError(f"unknown endpoint kind {self.endpoint!r}")
        if not isinstance(self.prompt, str):
            object.__setattr__(self, "prompt", tuple(self.prompt))
            if self.endpoint == "ollama":
                raise ValueError("Ollama's /api/generate takes a text prompt, not token ids")

    @property
    def url(self) -> str:
        """The endpoint URL."""
        return endpoint_url(self.base_url, self.endpoint)

    def payload(self) -> dict[str, Any]:
        """The JSON body: ``body``, then model, prompt and the fields this transport owns."""
        out: dict[str, Any] = dict(self.body)
        if self.model is not None:
            out["model"] = self.model
        out["prompt"] = self.prompt if isinstance(self.prompt, str) else list(self.prompt)
        out["stream"] = True
        if self.endpoint == "ollama":
            out["raw"] = True
        return out


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole completion collected from a stream."""

    text: str
    token_ids: tuple[int, ...] | None
    finish: Finish
    usage: Usage | None


@dataclass(frozen=True, slots=True)
class JSONResponse:
    """A successful JSON answer to a probe."""

    url: str
    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of ``/v1/models``."""

    id: str
    owned_by: str | None = None
    context_length: int | None = None
    """``max_model_len`` where the server lists it (vLLM, SGLang)."""


# ------------------------------------------------------------------------------------------------ URLs


def normalize_base_url(base_url: str) -> str:
    """``http://h:8000/v1/`` -> ``http://h:8000``: the server root the endpoint paths hang from.

    A URL with a query string or fragment is refused: endpoint paths are appended to the root, so a
    ``?key=...`` would end up in the middle of every request's URL.
    """
    if "?" in base_url or "#" in base_url:
        raise errors.UsageError(
            f"the base URL {redact_url(base_url)} has a query string or fragment; gptoss appends "
            "endpoint paths to it",
            hint="give the server's root (e.g. http://127.0.0.1:8000/v1) and the key with --api-key-env",
        )
    url = base_url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    return url


def endpoint_url(base_url: str, endpoint: EndpointKind) -> str:
    """The full URL of an endpoint kind under ``base_url``."""
    return normalize_base_url(base_url) + ENDPOINT_PATHS[endpoint]


# ------------------------------------------------------------------------------------------- streaming


def make_client(timeouts: Timeouts = Timeouts(), *, url: str | None = None) -> httpx.Client:
    """An httpx client with explicit timeouts. For a plain ``http://`` URL no TLS context is built
    (loading the CA bundle costs ~35 ms of start-up for nothing); redirects are not followed."""
    plain = url is not None and url.startswith("http://")
    return httpx.Client(timeout=timeouts.to_httpx(), headers={"User-Agent": USER_AGENT}, verify=not plain)


def stream_completion(
    request: CompletionRequest, *, client: httpx.Client | None = None
) -> Generator[StreamEvent, None, None]:
    """POST the request and yield events until the server's end marker.

    Raises a :class:`~gptoss_cli.errors.TransportError` subclass on failure; closing the generator
    (or Ctrl-C while it runs) closes the response.
    """
    url = redact_url(request.url)
    http = client if client is not None else make_client(request.timeouts, url=request.url)
    try:
        response = _open(http, request, url)
        try:
            _check_content_type(response, url)
            chunks = _read_chunks(response, url, request.timeouts)
            if request.endpoint == "ollama":
                yield from decode_ollama(chunks, url)
            elif request.endpoint == "llamacpp":
                yield from decode_llamacpp(chunks, url)
            else:
                content_type = response.headers.get("content-type", "")
                whole = "json" in content_type and "event-stream" not in content_type
                yield from decode_openai(chunks, url, whole_json=whole)
        finally:
            response.close()
    finally:
        if client is None:
            http.close()


def complete(request: CompletionRequest, *, client: httpx.Client | None = None) -> Completion:
    """Run a streamed completion to its end and return it whole (for probes and tests)."""
    parts: list[str] = []
    ids: list[int] = []
    saw_ids = False
    usage: Usage | None = None
    finish: Finish | None = None
    for event in stream_completion(request, client=client):
        if isinstance(event, TextDelta):
            parts.append(event.text)
            if event.token_ids is not None:
                saw_ids = True
                ids.extend(event.token_ids)
        elif isinstance(event, Usage):
            usage = event
        else:
            finish = event
            usage = event.usage or usage
    if finish is None:
        url = redact_url(request.url)
        raise errors.StreamError(f"{url} ended the stream without a finish", url=url)
    return Completion("".join(parts), tuple(ids) if saw_ids else None, finish, usage)


def _headers(request: CompletionRequest) -> dict[str, str]:
    accept = "application/x-ndjson" if request.endpoint == "ollama" else "text/event-stream"
    # identity: a compressing proxy would otherwise buffer the stream.
    headers = {"Content-Type": "application/json", "Accept": accept, "Accept-Encoding": "identity"}
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    headers.update(request.headers)
    return headers


def _open(http: httpx.Client, request: CompletionRequest, url: str) -> httpx.Response:
    """Send the POST, retrying before the first byte; return a 2xx streaming response."""
    content = json.dumps(request.payload(), ensure_ascii=False, separators=(",", ":")).encode()
    headers = _headers(request)
    timeout = request.timeouts.to_httpx()
    attempt = 0
    while True:
        try:
            req = http.build_request("POST", request.url, content=content, headers=headers, timeout=timeout)
            response = http.send(req, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            retryable = isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError)
            delay = request.retry.delay(attempt, None) if retryable else None
            if delay is None:
                raise translate_error(exc, url, request.timeouts, started=False) from exc
        else:
            if response.status_code < 300:
                return response
            error = _status_error(response, url, request.api_key)
            delay = None
            if response.status_code in request.retry.statuses:
                delay = request.retry.delay(attempt, _retry_after(response.headers))
            if delay is None:
                raise error
        time.sleep(delay)
        attempt += 1


def _status_error(response: httpx.Response, url: str, api_key: str | None = None) -> errors.HTTPStatusError:
    """Read and close an error response; build the error with the server's own message."""
    try:
        body = response.read()
    except httpx.HTTPError:
        body = b""
    finally:
        response.close()
    status = response.status_code
    message = server_message(body)
    if message and api_key:
        message = message.replace(api_key, "***")
    text = f"{url} answered HTTP {status} {response.reason_phrase}".rstrip()
    error = errors.HTTPStatusError(
        f"{text}: {message}" if message else text, url=url, status=status, server_message=message
    )
    error.hint = _STATUS_HINTS.get(status) or ("the server failed; check its log" if status >= 500 else None)
    if 300 <= status < 400:
        location = response.headers.get("location")
        error.hint = (
            f"it redirects to {redact_url(str(response.url.join(location)))}: use that as --base-url"
            if location
            else "it redirects; check --base-url (https instead of http?)"
        )
    return error


_STATUS_HINTS = {
    401: "the server wants an API key: export GPTOSS_API_KEY=..., or name its variable with --api-key-env",
    403: "check the API key and its permissions",
    404: "check --base-url and the server kind: this server has no such endpoint or model",
    429: "the server is rate limiting; wait and retry",
}


def server_message(body: bytes) -> str | None:
    """The server's own error message, from a JSON or a text body."""
    try:
        data = json.loads(body)
    except ValueError:
        text = " ".join(body.decode("utf-8", "replace").split())
        return text[:300] or None
    return error_message(data)


def _retry_after(headers: httpx.Headers) -> float | None:
    value: str | None = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def translate_error(exc: Exception, url: str, timeouts: Timeouts, *, started: bool) -> errors.TransportError:
    """Map an httpx exception to the project's error tree."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return errors.TimeoutError(
            f"timed out connecting to {url} after {timeouts.connect:g}s", url=url, hint="is the server up?"
        )
    if isinstance(exc, httpx.TimeoutException):
        return errors.TimeoutError(
            f"{url} sent nothing for {timeouts.read:g}s",
            url=url,
            hint="the server may be busy or queueing; raise the read timeout",
        )
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return errors.ConnectError(f"invalid URL {url}: {exc}", url=url, hint="check --base-url")
    if isinstance(exc, httpx.DecodingError):
        return errors.ProtocolError(f"{url} sent a body that cannot be decoded: {exc}", url=url)
    if started:
        return errors.StreamError(f"the stream from {url} broke: {exc}", url=url)
    if isinstance(exc, httpx.ConnectError):
        return errors.ConnectError(
            f"cannot connect to {url}: {exc}", url=url, hint="is the server running? check --base-url"
        )
    return errors.ConnectError(f"{url} closed the connection without answering: {exc}", url=url)


_NOT_A_COMPLETION = "something other than a completion server answered: check --base-url and --kind"


def _check_content_type(response: httpx.Response, url: str) -> None:
    """A 2xx web page (a proxy's login page, a web UI) is not a stream: say so before reading it."""
    content_type = response.headers.get("content-type", "").lower()
    if "text/html" in content_type:
        raise errors.ProtocolError(
            f"{url} answered HTTP {response.status_code} with an HTML page, not a completion stream",
            url=url,
            hint=_NOT_A_COMPLETION,
        )


def _read_chunks(response: httpx.Response, url: str, timeouts: Timeouts) -> Iterator[bytes]:
    """The body's bytes; an empty body or an HTML page (whatever its content type) is a ProtocolError.

    Runs once per token: without a Content-Encoding the raw bytes are the body (``iter_bytes``
    would pass each through an identity decoder), and after the first bytes the rest is passed on
    as it comes.
    """
    empty = True
    try:
        body = response.iter_bytes() if "content-encoding" in response.headers else response.iter_raw()
        for chunk in body:
            if chunk:
                if chunk.lstrip()[:1] == b"<":
                    status = response.status_code
                    raise errors.ProtocolError(
                        f"{url} answered HTTP {status} with HTML or XML, not a completion stream",
                        url=url,
                        hint=_NOT_A_COMPLETION,
                    )
                empty = False
                yield chunk
                break
            yield chunk
        if not empty:
            yield from body
    except httpx.HTTPError as exc:
        raise translate_error(exc, url, timeouts, started=True) from exc
    if empty:
        raise errors.ProtocolError(
            f"{url} answered HTTP {response.status_code} with an empty body, not a completion stream",
            url=url,
            hint=_NOT_A_COMPLETION,
        )


# ---------------------------------------------------------------------------------------------- probes


def get_json(
    url: str,
    *,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    client: httpx.Client | None = None,
) -> JSONResponse:
    """GET a JSON document (no retries). Raises HTTPStatusError, ProtocolError or another TransportError."""
    shown = redact_url(url)
    send_headers = {"Accept": "application/json"}
    if api_key:
        send_headers["Authorization"] = f"Bearer {api_key}"
    send_headers.update(headers or {})
    http = client if client is not None else make_client(timeouts, url=url)
    try:
        try:
            response = http.get(url, headers=send_headers, timeout=timeouts.to_httpx())
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise translate_error(exc, shown, timeouts, started=False) from exc
        if response.status_code >= 300:
            raise _status_error(response, shown, api_key)
        try:
            data = response.json()
        except ValueError as exc:
            raise errors.ProtocolError(
                f"{shown} did not answer with JSON: {response.text[:200]!r}", url=shown
            ) from exc
        return JSONResponse(shown, response.status_code, dict(response.headers), data)
    finally:
        if client is None:
            http.close()


def status_of(url: str, *, client: httpx.Client, timeout: float = 2.0) -> int | None:
    """The HTTP status a GET of ``url`` answers with, or None when nothing answers (a health poll)."""
    try:
        return client.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def list_models(
    base_url: str,
    *,
    api_key: str | None = None,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    client: httpx.Client | None = None,
) -> list[ModelInfo]:
    """The models ``GET /v1/models`` lists."""
    url = normalize_base_url(base_url) + "/v1/models"
    return parse_models(get_json(url, api_key=api_key, timeouts=timeouts, client=client))


def parse_models(answer: JSONResponse) -> list[ModelInfo]:
    """Read an OpenAI-style model list (``{"data": [{"id": ..., "owned_by": ...}]}``)."""
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    if not isinstance(data, list):
        raise errors.ProtocolError(f"{answer.url} is not an OpenAI model list", url=answer.url)
    models: list[ModelInfo] = []
    for entry in data:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            owner = entry.get("owned_by")
            meta = entry.get("meta")
            length = entry.get("max_model_len") or (meta.get("n_ctx") if isinstance(meta, dict) else None)
            if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
                length = None
            models.append(ModelInfo(entry["id"], owner if isinstance(owner, str) else None, length))
    return models
