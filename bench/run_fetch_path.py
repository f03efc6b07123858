"""Fetch path: order-sign without prefetch against a loopback FHIR server that adds 100 ms to every answer.

The FHIR server names every drug by reference (`Medication/<id>`, `--referenced-medications`), as many EHRs do, and
honours `_include=<Type>:medication`. Measured sequentially (one call at a time, keep-alive connections, after a
warm-up), medians of `--calls`:

1. one FHIR query: the bench client GETs the ALP search from the FHIR server itself;
2. a whole order-sign with no prefetch: ALP Guard reads the Patient and runs its searches (the medication ones with
   `_include`) in one concurrent round; target: <= 1.15x one FHIR query (nothing is fetched twice and no Medication
   is read on its own: the FHIR server's request counters check it; connections are reused: its connection counter);
   2b. informative: the same with the server ignoring `_include`, so that the drugs are read in a second round;
3. pagination: the FHIR server pages the 30 ALP results 10 a page. The order-sign's prefetch holds page 1 (a Bundle
   with a `next` link) and everything else, so ALP Guard follows the next links; target: <= 3 sequential round
   trips (the client GETs pages 1, 2, 3 one after the other). Also reported: the same 3 pages with no prefetch at
   all (ALP Guard fetches page 1 itself, alongside the other queries);
4. the same order-sign and query with no added delay, to show the service's own time on this path.

    .venv/bin/python bench/run_fetch_path.py            # about 1 minute
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
import payloads as pl  # noqa: E402


class Client:
    """One keep-alive HTTP/1.1 connection to a loopback server (re-opened, untimed, if the server closed it)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.connect()

    def connect(self) -> None:
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn.connect()
        # http.client writes a POST's headers and body separately: no Nagle delay on either side of loopback.
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        headers = (
            {"Content-Type": "application/json", "Accept": "application/fhir+json"}
            if body is not None
            else {"Accept": "application/fhir+json"}
        )
        for attempt in range(2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, data, time.perf_counter() - started
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # gunicorn closes a connection idle for more than its keepalive (5 s): open a new one, untimed.
                self.conn.close()
                if attempt:
                    raise
                self.connect()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fhir_stats(fhir: Client, reset: bool = False) -> dict:
    if reset:
        fhir.call("POST", "/_reset", b"{}")
        return {}
    return json.loads(fhir.call("GET", "/_stats")[1])


def timed_calls(client: Client, method: str, path: str, body: bytes | None, calls: int) -> tuple[list[float], set[int]]:
    latencies, statuses = [], set()
    for _ in range(calls):
        status, _, elapsed = client.call(method, path, body)
        latencies.append(elapsed)
        statuses.add(status)
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=25, help="sequential calls per measurement")
    parser.add_argument("--delay-ms", type=float, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    parser.add_argument(
        "--inline-medications", action="store_true", help="drugs inline (medicationCodeableConcept), as before issue 12"
    )
    args = parser.parse_args()

    h.ensure_tools()
    paths = h.ensure_payloads()
    typical = json.loads(paths["order-sign-typical"].read_text())
    port = h.free_port()
    base = f"http://127.0.0.1:{port}"
    fhir_proc = subprocess.Popen(
        [
            sys.executable,
            str(h.BENCH / "fhir_server.py"),
            "--port",
            str(port),
            "--delay-ms",
            str(args.delay_ms),
            "--resources",
            str(paths["resources-typical"]),
            "--max-seconds",
            "600",
            *([] if args.inline_medications else ["--referenced-medications"]),
        ],
        start_new_session=True,
    )
    report: dict = {
        "machine": h.machine(),
        "command": " ".join(["bench/run_fetch_path.py", *sys.argv[1:]]),
        "delay_ms": args.delay_ms,
        "calls": args.calls,
        "workers": args.workers,
        "threads": args.threads,
        "medications": "inline" if args.inline_medications else "referenced",
    }
    print(f"machine: {report['machine']}")
    try:
        for _ in range(100):
            try:
                fhir = Client(base)
                fhir.call("GET", "/_stats")
                break
            except OSError:
                time.sleep(0.1)
        with h.running("alp-guard-fetch", workers=args.workers, threads=args.threads) as svc:
            cds = Client(svc.url)
            sign = "/cds-services/low-alp-order-sign"
            alp_query = "/" + pl.render_alp_query(pl.PATIENT_ID)

            # 1. One FHIR query, sequential, keep-alive.
            timed_calls(fhir, "GET", alp_query, None, 3)
            one_query, _ = timed_calls(fhir, "GET", alp_query, None, args.calls)

            # 2. Whole order-sign without prefetch.
            no_prefetch = json.dumps(pl.fetch_path_request(base)).encode()
            # Warm-up: every worker and every FHIR executor thread opens its connections once.
            timed_calls(cds, "POST", sign, no_prefetch, 4 * args.workers)
            fhir_stats(fhir, reset=True)
            order_sign, statuses = timed_calls(cds, "POST", sign, no_prefetch, args.calls)
            stats = fhir_stats(fhir)
            answer = json.loads(cds.call("POST", sign, no_prefetch)[1])
            per_call = sum(stats["requests"].values()) / args.calls
            duplicates = {url: n for url, n in stats["requests"].items() if n != args.calls}
            medication_reads = sum(n for url, n in stats["requests"].items() if url.startswith("/Medication/"))

            # 2b. The same with a server that ignores _include: the drugs need a second round (informative).
            fhir.call("POST", "/_config", json.dumps({"include": False}).encode())
            timed_calls(cds, "POST", sign, no_prefetch, 2 * args.workers)
            fhir_stats(fhir, reset=True)
            ignored_include, _ = timed_calls(cds, "POST", sign, no_prefetch, args.calls)
            ignored_stats = fhir_stats(fhir)
            fhir.call("POST", "/_config", json.dumps({"include": True}).encode())

            # 3. Pagination: 30 ALP results, 10 a page.
            fhir.call("POST", "/_config", json.dumps({"page_size": 10}).encode())
            page_urls = [alp_query]
            _, first, _ = fhir.call("GET", alp_query)
            page1 = json.loads(first)
            while nxt := next(
                (link["url"] for link in json.loads(first).get("link", []) if link["relation"] == "next"), None
            ):
                page_urls.append(relative(nxt))
                _, first, _ = fhir.call("GET", page_urls[-1])
            three_trips = []
            for _ in range(args.calls):
                started = time.perf_counter()
                _, body, _ = fhir.call("GET", alp_query)
                while nxt := next(
                    (link["url"] for link in json.loads(body).get("link", []) if link["relation"] == "next"), None
                ):
                    _, body, _ = fhir.call("GET", relative(nxt))
                three_trips.append(time.perf_counter() - started)
            # 3a. Prefetch holds page 1 with its next link; the rest of the prefetch is complete.
            paged_prefetch = dict(typical["prefetch"], alp=page1)
            paged_body = pl.fetch_path_request(base)
            paged_body["prefetch"] = paged_prefetch
            paged = json.dumps(paged_body).encode()
            timed_calls(cds, "POST", sign, paged, 2 * args.workers)
            fhir_stats(fhir, reset=True)
            paged_latency, paged_statuses = timed_calls(cds, "POST", sign, paged, args.calls)
            paged_stats = fhir_stats(fhir)
            paged_answer = json.loads(cds.call("POST", sign, paged)[1])
            # 3b. No prefetch at all, ALP paged in 3.
            timed_calls(cds, "POST", sign, no_prefetch, 2 * args.workers)
            fhir_stats(fhir, reset=True)
            paged_np_latency, paged_np_statuses = timed_calls(cds, "POST", sign, no_prefetch, args.calls)
            paged_np_stats = fhir_stats(fhir)
            # 4. Where the time above one query goes: the same calls with no added delay (informative).
            fhir.call("POST", "/_config", json.dumps({"page_size": 1000, "delay_ms": 0}).encode())
            timed_calls(cds, "POST", sign, no_prefetch, 2 * args.workers)
            zero_sign, _ = timed_calls(cds, "POST", sign, no_prefetch, args.calls)
            zero_query, _ = timed_calls(fhir, "GET", alp_query, None, args.calls)
            cds.close()
        fhir.close()
    finally:
        if fhir_proc.poll() is None:
            fhir_proc.terminate()
            fhir_proc.wait(timeout=10)

    med = h.median
    ratio_sign = med(order_sign) / med(one_query)
    ratio_ignored = med(ignored_include) / med(one_query)
    ratio_paged = med(paged_latency) / med(three_trips)
    ratio_paged_np = med(paged_np_latency) / med(three_trips)
    report.update(
        {
            "one_query_s": {"median": med(one_query), "all": one_query},
            "order_sign_no_prefetch_s": {
                "median": med(order_sign),
                "p90": h.percentile(order_sign, 90),
                "all": order_sign,
                "statuses": sorted(statuses),
                "cards": [c["summary"] for c in answer.get("cards", [])],
            },
            "fhir_requests_per_order_sign": per_call,
            "medication_reads_during_measured_calls": medication_reads,
            "include_ignored": {
                "order_sign_s": {"median": med(ignored_include), "all": ignored_include},
                "over_one_query": ratio_ignored,
                "fhir_requests_per_call": sum(ignored_stats["requests"].values()) / args.calls,
            },
            "without_delay": {"order_sign_s": med(zero_sign), "one_query_s": med(zero_query)},
            "fhir_urls_not_fetched_exactly_once_per_call": duplicates,
            "fhir_new_connections_during_measured_calls": stats["connections"],
            "order_sign_over_one_query": ratio_sign,
            "order_sign_target": h.verdict(ratio_sign <= 1.15 and medication_reads == 0),
            "pagination": {
                "page_urls": len(page_urls),
                "three_sequential_round_trips_s": {"median": med(three_trips), "all": three_trips},
                "prefetch_page1_order_sign_s": {
                    "median": med(paged_latency),
                    "all": paged_latency,
                    "statuses": sorted(paged_statuses),
                    "fhir_requests_per_call": sum(paged_stats["requests"].values()) / args.calls,
                    "new_connections": paged_stats["connections"],
                    "cards": [c["summary"] for c in paged_answer.get("cards", [])],
                },
                "prefetch_page1_over_three_round_trips": ratio_paged,
                "prefetch_page1_target": h.verdict(ratio_paged <= 1.0),
                "no_prefetch_three_pages_order_sign_s": {
                    "median": med(paged_np_latency),
                    "all": paged_np_latency,
                    "statuses": sorted(paged_np_statuses),
                    "fhir_requests_per_call": sum(paged_np_stats["requests"].values()) / args.calls,
                },
                "no_prefetch_three_pages_over_three_round_trips": ratio_paged_np,
            },
        }
    )
    path = h.save_result("fetch_path" + args.tag, report)
    print(f"one FHIR query (median of {args.calls})     {med(one_query) * 1000:7.1f} ms")
    print(
        f"order-sign, no prefetch                  {med(order_sign) * 1000:7.1f} ms = {ratio_sign:.2f}x one query "
        f"[{report['order_sign_target']} <= 1.15x]  statuses {sorted(statuses)}  FHIR requests/call {per_call:.1f}  "
        f"Medication reads: {medication_reads}  not fetched exactly once: {duplicates or 'none'}  "
        f"new connections during {args.calls} calls: {stats['connections']}"
    )
    print(
        f"order-sign, server ignores _include    {med(ignored_include) * 1000:7.1f} ms = {ratio_ignored:.2f}x "
        f"one query (informative: the drugs read in a second round)  FHIR requests/call "
        f"{report['include_ignored']['fhir_requests_per_call']:.1f}"
    )
    print(f"3 sequential round trips (ALP pages 1-3) {med(three_trips) * 1000:7.1f} ms")
    print(
        f"order-sign, prefetch = page 1 + next     {med(paged_latency) * 1000:7.1f} ms = {ratio_paged:.2f}x "
        f"[{report['pagination']['prefetch_page1_target']} <= 1.0x]  FHIR requests/call "
        f"{report['pagination']['prefetch_page1_order_sign_s']['fhir_requests_per_call']:.1f}"
    )
    print(
        f"order-sign, no prefetch, ALP in 3 pages  {med(paged_np_latency) * 1000:7.1f} ms = {ratio_paged_np:.2f}x "
        f"3 round trips (informative)"
    )
    print(
        f"with no added delay: order-sign {med(zero_sign) * 1000:.1f} ms, "
        f"one FHIR query {med(zero_query) * 1000:.1f} ms "
        f"(the service's own time on the fetch path)"
    )
    print(f"cards: {report['order_sign_no_prefetch_s']['cards']}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
