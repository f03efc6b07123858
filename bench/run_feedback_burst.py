"""Feedback bursts (issue 14): hook latency while clients post maximal feedback requests, on SQLite.

A maximal request holds 100 items (the cap) on cards the service issued, each with a comment of nearly 2,000
characters (the cap), about 200 kB (the feedback body cap is 512 kB). The hook call is an order-sign with full
prefetch, sent one at a time; its p99 during the burst is compared with its idle p99 in the same run (target: within
2x). The feedback rows go in as short write transactions (the card lookup happens before the write lock is taken).
Each caller may send CDS_FEEDBACK_ITEMS_PER_MINUTE items a minute (429 with Retry-After beyond): the posters wait as
told, as an EHR would, unless --ignore-retry-after makes them post back to back regardless (a flood of refusals).

Loopback only, bounded: 10 s idle, then 15 s of burst. Usage: .venv/bin/python bench/run_feedback_burst.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HOST, machine, percentile, save_result, start_server, stop_server  # noqa: E402
from run_slow_clients import HOOK_BODY, HOOK_PATH, REQUEST_TIMEOUT, timed  # noqa: E402

FEEDBACK_PATH = HOOK_PATH + "/feedback"


def post(port: int, path: str, body: bytes) -> tuple[int, dict, int]:
    """POST JSON; return the status, the decoded answer and its Retry-After (0 without one)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}"), int(response.getheader("Retry-After") or 0)
    finally:
        connection.close()


def issued_cards(port: int, count: int) -> list[str]:
    """Serve `count` hook calls and return the uuids of the cards they gave."""
    cards: list[str] = []
    while len(cards) < count:
        status, answer, _ = post(port, HOOK_PATH, HOOK_BODY)
        assert status == 200, answer
        cards += [card["uuid"] for card in answer["cards"]]
    return cards[:count]


def maximal_body(cards: list[str], serial: int, comment_chars: int) -> bytes:
    items = [
        {
            "card": card,
            "outcome": "overridden",
            "outcomeTimestamp": "2026-12-04T12:00:00Z",
            "overrideReason": {"userComment": f"{serial}-{i} " + "x" * comment_chars},
        }
        for i, card in enumerate(cards)
    ]
    return json.dumps({"feedback": items}).encode()


Posted = list[tuple[int, float, int]]  # status, seconds, rows stored, one a post


def poster(
    port: int,
    cards: list[str],
    comment_chars: int,
    worker: int,
    stop: multiprocessing.synchronize.Event,
    results: multiprocessing.queues.Queue[Posted],
    honour: bool,
) -> None:
    """Post maximal feedback back to back until told to stop (waiting out a 429 when `honour`); report each post."""
    posted: Posted = []
    serial = worker * 1_000_000
    while not stop.is_set():
        serial += 1
        body = maximal_body(cards, serial, comment_chars)
        started = time.perf_counter()
        status, answer, retry_after = post(port, FEEDBACK_PATH, body)
        posted.append((status, time.perf_counter() - started, answer.get("stored", 0)))
        if status == 429 and honour:
            stop.wait(retry_after)
    results.put(posted)


def hook_latencies(port: int, seconds: float, body: bytes) -> list[float]:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        took = timed(port, "POST", HOOK_PATH, body)
        samples.append(REQUEST_TIMEOUT if took is None else took)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=4, help="clients posting feedback at once (default 4)")
    parser.add_argument(
        "--hook-example",
        default="order-sign-persistent-low-alp.json",
        help="the examples/ request measured (default: one that gives a card, so it writes the audit)",
    )
    parser.add_argument("--tag", default="", help="suffix of the result file's name")
    parser.add_argument("--comment-chars", type=int, default=1980, help="x characters per comment, under the 2,000 cap")
    parser.add_argument("--ignore-retry-after", action="store_true", help="post again at once after a 429")
    parser.add_argument(
        "--items-per-minute", type=int, default=None, help="CDS_FEEDBACK_ITEMS_PER_MINUTE (default: the service's)"
    )
    args = parser.parse_args()
    hook_body = (Path(__file__).resolve().parent.parent / "examples" / args.hook_example).read_bytes()
    limit = {} if args.items_per_minute is None else {"CDS_FEEDBACK_ITEMS_PER_MINUTE": str(args.items_per_minute)}
    server = start_server("feedback-burst", extra_env=limit)  # production config, SQLite in a temporary folder
    try:
        cards = issued_cards(server.port, 100)
        idle = hook_latencies(server.port, 10, hook_body)
        # The posters run in processes of their own: as threads of this process they would hold the GIL that the
        # hook timer needs, and a fast 429 loop would inflate the measured hook latency on the client side.
        stop = multiprocessing.Event()
        results: multiprocessing.queues.Queue[Posted] = multiprocessing.Queue()
        posters = [
            multiprocessing.Process(
                target=poster,
                args=(server.port, cards, args.comment_chars, i, stop, results, not args.ignore_retry_after),
                daemon=True,
            )
            for i in range(args.posters)
        ]
        for process in posters:
            process.start()
        time.sleep(1)
        burst = hook_latencies(server.port, 15, hook_body)
        stop.set()
        posted: Posted = []
        for _ in posters:
            posted += results.get(timeout=120)
        for process in posters:
            process.join(timeout=60)
    finally:
        stop_server(server)
    body_bytes = len(maximal_body(cards, 0, args.comment_chars))
    ratio = round(percentile(burst, 99) / percentile(idle, 99), 2)
    statuses = sorted({status for status, _, _ in posted})
    result = {
        "machine": machine(),
        "posters": args.posters,
        "items_per_minute": args.items_per_minute,
        "honours_retry_after": not args.ignore_retry_after,
        "hook_example": args.hook_example,
        "feedback_body_bytes": body_bytes,
        "feedback_posts": len(posted),
        "feedback_statuses": statuses,
        "feedback_posts_refused_429": sum(status == 429 for status, _, _ in posted),
        "feedback_rows_stored": sum(stored for _, _, stored in posted),
        "feedback_post_p50_ms": round(percentile([s for _, s, _ in posted], 50) * 1000, 1),
        "hook_idle": summary(idle),
        "hook_during_burst": summary(burst),
        "hook_p99_ratio": ratio,
        "target_met": ratio <= 2.0,
    }
    print(
        f"{len(posted)} maximal feedback posts ({body_bytes / 1e3:.0f} kB, 100 items each; statuses {statuses}; "
        f"p50 {result['feedback_post_p50_ms']} ms) from {args.posters} clients"
    )
    print(
        f"hook p99 idle {result['hook_idle']['p99_ms']} ms, during the burst {result['hook_during_burst']['p99_ms']} "
        f"ms: ratio {ratio} (target <= 2: {'PASS' if ratio <= 2.0 else 'MISS'})"
    )
    print(f"result: {save_result('feedback_burst' + args.tag, result)}")


if __name__ == "__main__":
    main()
