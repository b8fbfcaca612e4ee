#!/usr/bin/env python3
"""Sends malformed and hostile requests to a control API socket. Each must get one error reply
with the expected code (or, for the connection-level cases, the documented behaviour), and after
each the VM must still be running. Prints PASS/FAIL lines and "N passed, N failed".
Usage: bad-requests.py SOCKET"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from rvapi import Client, Tally, reply_code  # noqa: E402

api = Client(sys.argv[1], timeout=20)
tally = Tally()
result, connect, read_line, close, exchange = (tally.result, api.connect, api.read_line,
                                               api.close, api.exchange)


def still_running():
    r = json.loads(exchange(b'{"id":7,"request":"status"}\n'))
    return r["ok"] and r["result"]["state"] == "running"


P, R, U, A, S = "parse-error", "invalid-request", "unknown-request", "invalid-argument", "invalid-state"
B = '"request":"balloon","arguments":'
table = [
    ("empty line", b"\n", P),
    ("spaces", b"   \n", P),
    ("truncated object", b'{"request":"status"\n', P),
    ("trailing garbage", b'{"request":"status"} x\n', P),
    ("two objects", b'{"request":"status"}{"request":"kill"}\n', P),
    ("single quotes", b"{'request':'status'}\n", P),
    ("duplicate key", b'{"request":"status","request":"kill"}\n', P),
    ("NUL escape", b'{"request":"sta\\u0000tus"}\n', P),
    ("invalid UTF-8", b'{"request":"\xff\xfe"}\n', P),
    ("bad escape after invalid UTF-8", b'{"request":"\xd4\xb8\\\xd4\xb8"}\n', P),
    ("binary garbage", bytes(range(256)).replace(b"\n", b"") + b"\n", P),
    ("raw NUL bytes", b"\0\0\0\0\n", P),
    ("huge integer", b'{"id":123456789012345678901234567890,"request":"status"}\n', P),
    ("bare string", b'"kill"\n', P),
    ("bare number", b"1\n", P),
    ("deep nesting", b"[" * 60000 + b"\n", P),
    ("line over 64 KiB", b'{"request":"status","x":"' + b"a" * 70000 + b'"}\n', P),
    ("array", b'[{"request":"kill"}]\n', R),
    ("empty object", b"{}\n", R),
    ("no request", b'{"id":3}\n', R),
    ("request is null", b'{"request":null}\n', R),
    ("request is a number", b'{"request":5}\n', R),
    ("request is an object", b'{"request":{"name":"kill"}}\n', R),
    ("unknown field", b'{"request":"kill","force":true}\n', R),
    ("negative id", b'{"id":-1,"request":"kill"}\n', R),
    ("fractional id", b'{"id":0.5,"request":"kill"}\n', R),
    ("string id", b'{"id":"x","request":"kill"}\n', R),
    ("arguments is an array", b'{"request":"kill","arguments":[]}\n', R),
    ("unknown request", b'{"request":"shutdown-host"}\n', U),
    ("request with a trailing space", b'{"request":"kill "}\n', U),
    ("upper-case request", b'{"request":"KILL"}\n', U),
    ("unknown argument", b'{"request":"kill","arguments":{"now":true}}\n', A),
    ("missing argument", ('{' + B + '{}}\n').encode(), A),
    ("string for integer", ('{' + B + '{"target_mib":"64"}}\n').encode(), A),
    ("float for integer", ('{' + B + '{"target_mib":64.0}}\n').encode(), A),
    ("bool for integer", ('{' + B + '{"target_mib":false}}\n').encode(), A),
    ("zero", ('{' + B + '{"target_mib":0}}\n').encode(), A),
    ("negative", ('{' + B + '{"target_mib":-1}}\n').encode(), A),
    ("above the schema range", ('{' + B + '{"target_mib":65537}}\n').encode(), A),
    ("INT64_MAX", ('{' + B + '{"target_mib":9223372036854775807}}\n').encode(), A),
    ("resume while running", b'{"request":"resume"}\n', S),
    ("balloon without a device", ('{' + B + '{"target_mib":64}}\n').encode(), "unsupported"),
]

for name, payload, want in table:
    try:
        got = reply_code(exchange(payload))
    except OSError as e:
        got = "connection error: %s" % e
    result(got == want and still_running(), name, "got %s, expected %s" % (got, want))

# The id comes back on errors once it was valid.
r = json.loads(exchange(b'{"id":99,"request":"nope"}\n'))
result(r["id"] == 99 and r["error"]["code"] == U, "id echoed on an error")

# Several bad requests on one connection, each answered in order.
s = connect()
s.sendall(b"{\n[]\n" + b'{"id":5,"request":"status"}\r\n')
codes = [reply_code(read_line(s)), reply_code(read_line(s))]
ok = json.loads(read_line(s))
close(s)
result(codes == [P, R] and ok["ok"] and ok["id"] == 5, "pipelined requests, CRLF", repr(codes))

# A client that leaves in the middle of a line, and one that only connects.
s = connect()
s.sendall(b'{"request":"ki')
close(s)
s = connect()
close(s)
result(still_running(), "half a line then hang up")

# Many concurrent clients: 16 are served, extra ones get "busy"; all replies are valid.
time.sleep(0.5)  # the server has seen the earlier connections close
socks = [connect() for _ in range(16)]
extra = connect()
busy = reply_code(read_line(extra))
close(extra)
replies = []
lock = threading.Lock()


def worker(sk, n):
    for i in range(n):
        sk.sendall(b'{"id":%d,"request":"bogus"}\n' % i)
        code = reply_code(read_line(sk))
        with lock:
            replies.append(code)


threads = [threading.Thread(target=worker, args=(sk, 20)) for sk in socks]
for t in threads:
    t.start()
for t in threads:
    t.join()
for sk in socks:
    close(sk)
result(busy == "busy", "17th client gets busy", busy)
result(len(replies) == 320 and all(c == U for c in replies), "16 concurrent clients x 20",
       "%d replies" % len(replies))
result(still_running(), "running after the concurrent clients")

tally.finish()
