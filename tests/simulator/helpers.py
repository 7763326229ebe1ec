"""Small clients for tests that must see raw bytes: a signed REST call and a raw WebSocket; and
an inbox for pybit's socket callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import requests
import websocket

EXAMPLES = Path(__file__).parent / "bybit_examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed(
    base_url: str,
    key: str,
    secret: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    body_text: str | None = None,
    recv_window: int = 5000,
    ts: int | None = None,
) -> requests.Response:
    """A Bybit-signed request built by hand (query in the given order; compact JSON body)."""
    ts = ts if ts is not None else int(time.time() * 1000)
    params = params or {}
    if method == "GET":
        payload = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{base_url}{path}" + (f"?{payload}" if payload else "")
        data = None
    else:
        payload = body_text if body_text is not None else json.dumps(params, separators=(",", ":"))
        url = f"{base_url}{path}"
        data = payload
    headers = {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": str(recv_window),
        "X-BAPI-SIGN": sign(secret, f"{ts}{key}{recv_window}{payload}"),
        "Content-Type": "application/json",
    }
    return requests.request(method, url, data=data, headers=headers, timeout=10)


class RawSocket:
    """A blocking WebSocket that returns decoded JSON messages, skipping ones not wanted."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=5)

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def recv(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.ws.recv())
        return data

    def recv_until(self, predicate: Any, limit: int = 200) -> dict[str, Any]:
        for _ in range(limit):
            message = self.recv()
            if predicate(message):
                return message
        raise AssertionError("expected message never arrived")

    def auth(self, key: str, secret: str) -> dict[str, Any]:
        expires = int(time.time() * 1000) + 5000
        self.send({"op": "auth", "args": [key, expires, sign(secret, f"GET/realtime{expires}")]})
        return self.recv()

    def close(self) -> None:
        self.ws.close()


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys, nesting and JSON types, not the values."""
    if isinstance(value, dict):
        # cumFeeDetail maps coin -> fee: its keys are data (MNT in the docs, USDT here), not schema.
        return {
            k: ("coin->string map" if k == "cumFeeDetail" and isinstance(v, dict) else shape(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def shape_diff(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Every place where ``actual`` has other keys or JSON types than ``expected``, or a string
    that is not a number where ``expected`` has a string-encoded number (``""`` is allowed: Bybit
    sends it for fields that do not apply, e.g. liqPrice of a flat position)."""
    exp, act = shape(expected), shape(actual)
    return _diff(exp, act, where) + _encoding_diff(expected, actual, where)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return text.strip() == text and text not in ("NaN", "Infinity", "-Infinity")


def _encoding_diff(exp: Any, act: Any, where: str) -> list[str]:
    if isinstance(exp, dict) and isinstance(act, dict):
        out: list[str] = []
        for k in exp:
            # Identifiers are opaque (the docs' spot examples use numeric ids, linear uses UUIDs).
            if k in act and k != "cumFeeDetail" and not (k == "id" or k.endswith(("Id", "ID"))):
                out += _encoding_diff(exp[k], act[k], f"{where}.{k}")
        return out
    if isinstance(exp, list) and isinstance(act, list):
        if exp and all(not isinstance(v, dict | list) for v in exp):
            # a row of scalars (a kline, a book level): compare position by position
            return [
                x
                for i, (e, a) in enumerate(zip(exp, act, strict=False))
                for x in _encoding_diff(e, a, f"{where}[{i}]")
            ]
        out = []
        for item in act:
            out += _encoding_diff(exp[0], item, f"{where}[]") if exp else []
        return out
    numeric_expected = isinstance(exp, str) and exp != "" and _is_number(exp)
    if numeric_expected and isinstance(act, str) and act != "" and not _is_number(act):
        return [f"{where}: expected a string-encoded number, got {act!r}"]
    return []


def _diff(exp: Any, act: Any, where: str) -> list[str]:
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return [f"{where}: expected object, got {act}"]
        out = [f"{where}.{k}: missing" for k in exp if k not in act]
        out += [f"{where}.{k}: unexpected" for k in act if k not in exp]
        for k in exp:
            if k in act:
                out += _diff(exp[k], act[k], f"{where}.{k}")
        return out
    if isinstance(exp, list):
        if not isinstance(act, list):
            return [f"{where}: expected array, got {act}"]
        if exp and act:
            return _diff(exp[0], act[0], f"{where}[0]")
        return []
    if exp != act:
        return [f"{where}: expected {exp}, got {act}"]
    return []


def table_keys(doc: dict[str, Any], depth: str = "> ") -> set[str]:
    """Field names one level below the top of a docs response table (linear rows)."""
    return {
        p["name"][len(depth) :]
        for p in doc["response_params"]
        if p["name"].startswith(depth) and not p["name"].startswith(depth + ">")
    }


def ccxt_bybit(sim: Any, key: str, secret: str) -> Any:
    """ccxt's bybit with default options, every API host pointed at the simulator."""
    import ccxt

    exchange = ccxt.bybit({"apiKey": key, "secret": secret, "enableRateLimit": False})
    exchange.urls["api"] = {name: sim.base_url for name in exchange.urls["api"]}
    return exchange


class Inbox:
    """Collects callback messages from pybit's socket thread."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.items.append(message)

    def topic(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.items if m.get("topic") == name]
