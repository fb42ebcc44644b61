"""Test stand-in for the `openai` package (not installable here): the release's code runs
unchanged against the parity recorder. It sends the same JSON body the real client sends
(every keyword argument except the client options `timeout` and `extra_*`) to the recorder
named by MAESTRO_RECORDER_URL, whatever base_url the code configured, retries as the real
client does (max_retries, default 2, on 408/409/429/5xx, connection errors and timeouts),
and fails with the real client's messages: "Error code: N - <parsed body>" (or the raw
text, or "Error code: N" without one), "Connection error.", "Request timed out.", and
json.loads's own error for a reply that is not JSON."""
import json
import os
import socket
import urllib.error
import urllib.request
from types import SimpleNamespace

CLIENT_OPTIONS = {"timeout", "extra_headers", "extra_query", "extra_body"}


class OpenAIError(Exception):
    pass


class APIStatusError(OpenAIError):
    def __init__(self, message, status_code):
        super().__init__(message)
        self.status_code = status_code


class APIConnectionError(OpenAIError):
    def __init__(self, message="Connection error."):
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    def __init__(self):
        super().__init__("Request timed out.")


def _status_message(code, raw):
    # openai._base_client._make_status_error_from_response
    err_text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(err_text)
        return f"Error code: {code} - {body}"
    except Exception:
        return err_text or f"Error code: {code}"


def _namespace(value):
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def _retryable(status):
    return status in (408, 409, 429) or status >= 500


class _Completions:
    def __init__(self, client):
        self._client = client

    def create(self, **kwargs):
        body = {k: v for k, v in kwargs.items() if k not in CLIENT_OPTIONS}
        data = json.dumps(body).encode("utf-8")
        url = os.environ["MAESTRO_RECORDER_URL"].rstrip("/") + "/chat/completions"
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {self._client.api_key}",
            "x-release-base-url": str(self._client.base_url),
        }
        timeout = kwargs.get("timeout", self._client.timeout)
        attempts = self._client.max_retries + 1
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as e:
                if attempt < attempts - 1 and _retryable(e.code):
                    continue
                raise APIStatusError(_status_message(e.code, e.read()), e.code) from None
            except (TimeoutError, socket.timeout):
                if attempt < attempts - 1:
                    continue
                raise APITimeoutError() from None
            except urllib.error.URLError as e:
                if attempt < attempts - 1:
                    continue
                if isinstance(e.reason, (TimeoutError, socket.timeout)):
                    raise APITimeoutError() from None
                raise APIConnectionError() from None
            except (ConnectionError, OSError):
                if attempt < attempts - 1:
                    continue
                raise APIConnectionError() from None
            # The real client parses a JSON reply with response.json(): its error propagates.
            return _namespace(json.loads(raw))


class OpenAI:
    def __init__(self, api_key=None, base_url=None, max_retries=2, timeout=600, **_):
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY")
        if api_key is None:
            raise OpenAIError("The api_key client option must be set")
        self.api_key = api_key
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.max_retries = max_retries
        self.timeout = timeout
        self.chat = SimpleNamespace(completions=_Completions(self))
