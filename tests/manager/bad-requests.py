#!/usr/bin/env python3
"""Sends malformed and hostile requests to the manager's socket while its VMs run. Each must
get one error reply with the expected code (connection-level cases: the documented
behaviour); afterwards the VM list (names, states, pids) and the state folder (file names, VM
definitions) must be exactly as before. Prints PASS/FAIL lines and "N passed, N failed".
Usage: bad-requests.py SOCKET STATE_DIR"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from rvapi import Client, Tally, reply_code as code  # noqa: E402

path, state = sys.argv[1], sys.argv[2]
mgr = Client(path)
tally = Tally()
result, connect, exchange = tally.result, mgr.connect, mgr.exchange


def snapshot():
    """The VMs as listed and the state folder's files (logs and sockets aside)."""
    # The server frees a client's slot when it sees the hang-up: right after the busy test
    # below it may still be full, so "busy" is retried (for up to a minute).
    for _ in range(600):
        reply = exchange(b'{"request":"list"}\n')
        if code(reply) != "busy":
            break
        time.sleep(0.1)
    vms = json.loads(reply)["result"]["vms"]
    listed = [(v["name"], v["state"], v["pid"]) for v in vms]
    files = []
    for root, _, names in os.walk(state):
        for n in sorted(names):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, state)
            if n.endswith(".log") or n.endswith(".sock") or n == "manager.lock":
                continue
            with open(p, "rb") as f:
                files.append((rel, f.read()))
    return listed, sorted(files)


def req(name, args=None):
    r = {"id": 1, "request": name}
    if args is not None:
        r["arguments"] = args
    return (json.dumps(r) + "\n").encode()


def create(name, config):
    return req("create", {"name": name, "config": config})


guest_config = {"kernel": "/nonexistent/Image", "mem": 64}
cases = [
    # syntax and framing
    (b"\n", "parse-error"),
    (b"{\n", "parse-error"),
    (b"hello\n", "parse-error"),
    (b"\xff\xfe\xfd\n", "parse-error"),
    (b'{"request":"list","request":"list"}\n', "parse-error"),
    (b'{"request":"info","arguments":{"name":"vm\\u0000"}}\n', "parse-error"),
    (b"[1,2]\n", "invalid-request"),
    (b"{}\n", "invalid-request"),
    (b'{"request":"list","extra":true}\n', "invalid-request"),
    (b'{"id":"x","request":"list"}\n', "invalid-request"),
    (b'{"request":"list","arguments":"all"}\n', "invalid-request"),
    (req("reboot_all"), "unknown-request"),
    (req("pause", {"name": "vm1"}), "unknown-request"),
    # arguments: unknown, missing, wrong types, out of range
    (req("list", {"verbose": True}), "invalid-argument"),
    (req("start"), "invalid-argument"),
    (req("start", {"name": 1}), "invalid-argument"),
    (req("start", {"name": ["vm1"]}), "invalid-argument"),
    (req("stop", {"name": "vm1", "timeout_s": 601}), "invalid-argument"),
    (req("stop", {"name": "vm1", "timeout_s": 1.5}), "invalid-argument"),
    (req("delete", {"name": "vm1", "force": "yes"}), "invalid-argument"),
    (req("vm", {"name": "vm1"}), "invalid-argument"),
    (req("vm", {"name": "vm1", "request": "status", "arguments": [1]}), "invalid-argument"),
    # names: path tricks and hostile bytes
    (req("info", {"name": "../x"}), "invalid-argument"),
    (req("info", {"name": ".."}), "invalid-argument"),
    (req("info", {"name": "."}), "invalid-argument"),
    (req("info", {"name": "vm1/../vm2"}), "invalid-argument"),
    (req("info", {"name": "/etc"}), "invalid-argument"),
    (req("info", {"name": ".manager"}), "invalid-argument"),
    (req("info", {"name": "a" * 65}), "invalid-argument"),
    (req("info", {"name": "vm 1"}), "invalid-argument"),
    (req("info", {"name": "vm1\n"}), "invalid-argument"),
    (req("info", {"name": "\u00e9t\u00e9"}), "invalid-argument"),
    (create("../escape", {}), "invalid-argument"),
    (create("x/y", {}), "invalid-argument"),
    # configurations
    (create("new", {"mem": 0}), "invalid-argument"),
    (create("new", {"mem": "lots"}), "invalid-argument"),
    (create("new", {"smp": 64}), "invalid-argument"),
    (create("new", {"kernel": "relative/Image"}), "invalid-argument"),
    (create("new", {"api-socket": "/tmp/steal.sock"}), "invalid-argument"),
    (create("new", {"console": "stdio"}), "invalid-argument"),
    (create("new", {"disk": "/one.img"}), "invalid-argument"),
    (create("new", {"disk": ["/a", "/b", "/c", "/d", "/e"]}), "invalid-argument"),
    (create("new", {"accel": "kvm"}), "invalid-argument"),
    (create("new", {"rng": "true"}), "invalid-argument"),
    (create("new", dict(guest_config, unknown=1)), "invalid-argument"),
    # state and existence
    (create("vm1", guest_config), "exists"),
    (req("info", {"name": "nosuch"}), "not-found"),
    (req("start", {"name": "nosuch"}), "not-found"),
    (req("vm", {"name": "nosuch", "request": "status"}), "not-found"),
    (req("start", {"name": "vm1"}), "invalid-state"),
    (req("delete", {"name": "vm1"}), "invalid-state"),
    # requests forwarded to a VM's own API are validated by the VM
    (req("vm", {"name": "vm1", "request": "reboot"}), "unknown-request"),
    (req("vm", {"name": "vm1", "request": "resume"}), "invalid-state"),
    (req("vm", {"name": "vm1", "request": "balloon", "arguments": {"target_mib": 0}}),
     "invalid-argument"),
    (req("vm", {"name": "vm1", "request": "balloon", "arguments": {"target_mib": 64}}),
     "unsupported"),
    (req("vm", {"name": "vm1", "request": "status", "arguments": {"x": 1}}), "invalid-argument"),
]

before = snapshot()
for payload, expected in cases:
    got = code(exchange(payload))
    result(got == expected, f"{payload[:70]!r} -> {expected}", f"(got {got})")

# A line longer than 65536 bytes: parse-error, and the connection still works.
s = connect()
got = code(exchange(b"{" + b" " * 70000 + b"}\n", s))
result(got == "parse-error", "70000-byte line -> parse-error", f"(got {got})")
got = code(exchange(b'{"request":"list"}\n', s))
result(got == "ok", "same connection still answers", f"(got {got})")
mgr.close(s)
# Half a request then a hang-up: nothing happens.
s = connect()
s.sendall(b'{"request":"delete","arguments":{"name":"vm1","force":tr')
mgr.close(s)
# More clients than the server takes: the extra one gets busy.
time.sleep(0.5)  # the server has seen the earlier connections close
clients = [connect() for _ in range(16)]
extra = connect()  # answered and closed by the server without a request
got = code(mgr.read_line(extra))
mgr.close(extra)
result(got == "busy", "17th client -> busy", f"(got {got})")
for c in clients:
    c.close()

after = snapshot()
result(before[0] == after[0], "VM list unchanged (names, states, pids)", f"{before[0]} {after[0]}")
result(before[1] == after[1], "state folder unchanged (files, definitions)")
tally.finish()
