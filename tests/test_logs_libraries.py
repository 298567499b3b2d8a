"""Other libraries' log lines carry no client address, and a flood of them is cut short."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

from conftest import LiveServer


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_bad_requests_are_404_and_their_log_lines_carry_no_address(make_server) -> None:
    srv: LiveServer = make_server()
    # A NUL byte and a name too long for the file system are simply not files.
    assert get(srv.url + "/a%00b") == 404
    assert get(srv.url + "/" + "a" * 300) == 404
    for _ in range(200):  # each of these makes aiohttp log an error about the request
        with socket.create_connection(("127.0.0.1", srv.port),
                                      source_address=("127.0.0.2", 0)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
            s.recv(100)
    time.sleep(0.5)
    log = srv.log()
    assert "127.0.0.2" not in log and "127.0.0.1" not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    library = [line for line in lines if line["logger"].startswith("aiohttp.server")]
    assert library, "the oversized headers were not logged at all"
    assert all(line["event"] == "Error handling request from %s" for line in library)
    assert len(library) <= 10, len(library)  # 200 bad requests, 10 lines a minute at most
