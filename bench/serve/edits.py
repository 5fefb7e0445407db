"""Edit-to-updated-page latency of a running `rollbook serve`.

usage: edits.py ADDRESS LOG CONTENT_DIR RUNS

For each run, takes a report file, appends a sentence that names the run, and measures the
wall time from just before the write until the served page of that report contains the
sentence, the way a browser sees it: the live-reload stream (/__rollbook/events) announces a
rebuild, and the page fetched then shows the edit. (Polling the page instead would compete
with the server for the CPU.) Then waits for the server's unhurried work (the line
"Caught up" on its stderr, in LOG) before the next edit, so that each edit is measured
alone. Prints one line per run: milliseconds, and the server's own "Changed ..." line.
"""

import http.client
import os
import socket
import sys
import time


def fetch(address, path):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


class Events:
    """The server's live-reload stream, read a line at a time."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.sock.sendall(
            f"GET /__rollbook/events HTTP/1.0\r\nHost: {address}\r\n\r\n".encode()
        )
        self.buffer = b""

    def next_event(self):
        """The name of the next event."""
        while True:
            while b"\n\n" not in self.buffer:
                chunk = self.sock.recv(4096)
                if not chunk:
                    sys.exit("edits.py: the live-reload stream closed")
                self.buffer += chunk
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            for line in block.decode("utf-8", "replace").splitlines():
                if line.startswith("event: "):
                    return line[len("event: "):].strip()


def count(log, text):
    with open(log, encoding="utf-8", errors="replace") as f:
        return f.read().count(text)


def wait_for(log, text, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while count(log, text) < at_least:
        if time.monotonic() > deadline:
            sys.exit(f"edits.py: no {text!r} in {log} after {timeout} s")
        time.sleep(0.01)


def last_line(log, text):
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = [line.strip() for line in f if text in line]
    return lines[-1] if lines else ""


def main():
    address, log, content, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    files = sorted(
        os.path.join(d, f)
        for d, _, names in os.walk(content)
        for f in names
        if f.endswith(".md")
    )
    step = max(1, len(files) // (runs + 1))
    for run in range(1, runs + 1):
        path = files[run * step]
        page = "/reports/" + os.path.basename(path)[: -len(".md")] + ".html"
        status, body = fetch(address, page)
        if status != 200:
            sys.exit(f"edits.py: {page} answered {status} before the edit")
        marker = f"Benchmark edit {run} at {time.time_ns()}."
        caught_up = count(log, "Caught up")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        events = Events(address)
        if events.next_event() != "hello":
            sys.exit("edits.py: the live-reload stream did not start with hello")
        start = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n\n" + marker + "\n")
        while True:
            if events.next_event() != "reload":
                continue
            status, body = fetch(address, page)
            if marker in body:
                break
            if time.perf_counter() - start > 60:
                sys.exit(f"edits.py: {page} never showed the edit")
        ms = (time.perf_counter() - start) * 1000
        events.sock.close()
        wait_for(log, "Caught up", caught_up + 1)
        print(f"{ms:.1f}\t{last_line(log, 'Changed ')}", flush=True)


if __name__ == "__main__":
    main()
