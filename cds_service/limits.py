"""Bounds on what one request may carry (JSON nesting depth, prefetch resources, draft orders) and how fast."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import IO, Any

# The depth check reads the UTF-8 bytes without decoding them again: escapes go first, then everything but quotes
# and brackets (multi-byte UTF-8 never contains an ASCII byte), then the strings. Arrays and objects nest alike.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_SKELETON = bytes.maketrans(b"[]", b"{}")
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'"{}[]')
_STRING = re.compile(rb'"[^"]*"')
_STEP = {ord("{"): 1, ord("}"): -1}
# Text no database column can hold: NUL (PostgreSQL refuses it) and unpaired UTF-16 surrogates (no UTF-8 encoding).
# JSON escapes are read one at a time, a surrogate pair as one; raw surrogates come from `surrogatepass` decoding.
_JSON_ESCAPE = re.compile(r"\\(?:u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|u([0-9a-f]{4})|.)", re.DOTALL | re.I)
UNSTORABLE = "the request body holds text that cannot be stored (NUL or an unpaired surrogate)"


class LimitExceeded(Exception):
    """A request is past a configured bound; the reason is a short fixed phrase for the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def load_json(raw: bytes, max_depth: int) -> Any:
    """Decode a JSON body and check its nesting depth; raise ValueError if malformed, LimitExceeded if too deep."""
    encoding = json.detect_encoding(raw)
    text = raw.decode(encoding, "surrogatepass")  # as json.loads does for bytes
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise LimitExceeded(400, "the request body is nested too deeply") from None
    if has_unstorable_text(text):
        raise LimitExceeded(400, UNSTORABLE)
    utf8 = raw if encoding in ("utf-8", "utf-8-sig") else text.encode("utf-8", "surrogatepass")
    if nesting_depth(utf8, max_depth) > max_depth:
        raise LimitExceeded(400, "the request body is nested too deeply")
    return document


def has_unstorable_text(json_text: str) -> bool:
    """Tell whether a JSON text holds, raw or escaped, a NUL or an unpaired surrogate."""
    # Raw: a NUL, or any surrogate code point (only `surrogatepass` decoding lets one in, and none encodes to UTF-8).
    # Both tests run in C; a regular expression over a 200 kB feedback body took 4 ms of a core.
    if "\x00" in json_text or not (json_text.isascii() or _encodes_to_utf8(json_text)):
        return True
    if "\\u" not in json_text:
        return False
    for match in _JSON_ESCAPE.finditer(json_text):
        single = match.group(3)
        if single is not None and (int(single, 16) == 0 or 0xD800 <= int(single, 16) <= 0xDFFF):
            return True
    return False


def _encodes_to_utf8(text: str) -> bool:
    """Tell whether a text holds no surrogate code point (UTF-8 has none)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_body(stream: IO[bytes], content_length: int | None, max_bytes: int) -> bytes:
    """Return a request body of at most max_bytes; a longer one, chunked or not, is 413 rather than cut short."""
    if content_length is not None:
        if content_length > max_bytes:
            raise LimitExceeded(413, "the request body is too large")
        return stream.read(content_length)
    parts, size = [], 0
    while size <= max_bytes:
        part = stream.read(min(65536, max_bytes + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > max_bytes:
        raise LimitExceeded(413, "the request body is too large")
    return b"".join(parts)


def _refuse_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python accepts but RFC 8259 JSON does not."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """Return a JSON number as a float, refusing one too large to represent (1e400 would become inf)."""
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def nesting_depth(valid_json: bytes, cap: int | None = None) -> int:
    """Return how deeply arrays and objects nest in valid UTF-8 JSON, or cap + 1 once deeper than `cap`."""
    skeleton = _ESCAPE.sub(b"", valid_json).translate(_SKELETON, _NOT_SKELETON)
    # With escapes gone every quote opens or closes a string, and two adjacent quotes are an empty string or the
    # end of one and the start of the next: dropping them keeps in-string brackets inside strings.
    skeleton = _STRING.sub(b"", skeleton.replace(b'""', b""))
    depth = max(accumulate(map(_STEP.__getitem__, skeleton)), default=0)  # one linear pass, whatever the shape
    return depth if cap is None else min(depth, cap + 1)


def check_counts(body: Mapping[str, Any], max_prefetch_resources: int, max_draft_orders: int) -> None:
    """Refuse a hook request with more prefetch resources or draft orders than allowed (413)."""
    prefetch = body.get("prefetch")
    if isinstance(prefetch, Mapping) and sum(_resource_count(v) for v in prefetch.values()) > max_prefetch_resources:
        raise LimitExceeded(413, "too many prefetch resources")
    context = body.get("context")
    if not isinstance(context, Mapping):
        return
    # medication-refill's `medications` is the same kind of order list as draftOrders, and is capped alike.
    if max(_resource_count(context.get("draftOrders")), _resource_count(context.get("medications"))) > max_draft_orders:
        raise LimitExceeded(413, "too many draft orders")


def _resource_count(value: Any) -> int:
    """Count the resources in a prefetch value: a Bundle's entries, else one resource, else none."""
    if not isinstance(value, Mapping):
        return 0
    entries = value.get("entry")
    # Count entries whatever the resourceType says: leaving it out must not bypass the limit.
    if isinstance(entries, list):
        return len(entries)
    return 0 if value.get("resourceType") == "Bundle" else 1


class TokenBuckets:
    """One token bucket per caller: `per_minute` tokens a minute, at most a minute's worth saved up.

    A caller is let in while its bucket holds a token, and then pays what its request turned out to cost, even into
    debt: the cost of a request (its feedback items) is known only once its body has been read, and a caller in debt
    is refused without its body being read at all. Buckets live in the worker process.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_callers: int = 10_000) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._clock = clock
        self._max_callers = max_callers
        self._buckets: dict[str, tuple[float, float]] = {}  # caller: (tokens, when counted)
        self._lock = threading.Lock()

    def admit(self, caller: str) -> int:
        """Spend one token of the caller's; return 0, or the whole seconds to wait when its bucket is empty."""
        with self._lock:
            tokens = self._tokens(caller)
            if tokens < 1:
                return max(1, math.ceil((1 - tokens) / self._rate))
            self._buckets[caller] = (tokens - 1, self._clock())
            return 0

    def charge(self, caller: str, tokens: float) -> None:
        """Take more tokens from an admitted caller, into debt if need be."""
        if tokens > 0:
            with self._lock:
                self._buckets[caller] = (self._tokens(caller) - tokens, self._clock())

    def _tokens(self, caller: str) -> float:
        """Return the caller's tokens now, refilled since last counted; forget callers whose buckets are full."""
        now = self._clock()
        if len(self._buckets) >= self._max_callers:
            self._buckets = {k: v for k, v in self._buckets.items() if self._refilled(v, now) < self._capacity}
            if len(self._buckets) >= self._max_callers:  # all busy: keep the most recent half
                recent = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[len(self._buckets) // 2 :]
                self._buckets = dict(recent)
        counted = self._buckets.get(caller)
        return self._capacity if counted is None else self._refilled(counted, now)

    def _refilled(self, counted: tuple[float, float], now: float) -> float:
        """Return a bucket's tokens at `now`."""
        tokens, when = counted
        return min(self._capacity, tokens + (now - when) * self._rate)
