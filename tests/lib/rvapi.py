"""Shared by the Python test clients of rvisor's JSON-lines sockets (a VM's API socket, the
manager's socket): a PASS/FAIL tally that ends with the "N passed, N failed" line, and a
client that sends one request per line and reads one reply line."""
import json
import socket
import sys
import time


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def result(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS: {name}")
        else:
            self.failed += 1
            print(f"FAIL: {name} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


class Client:
    """Connections to one unix socket path; replies are read line by line, buffered per
    socket (pipelined replies may arrive together)."""

    def __init__(self, path, timeout=30):
        self.path, self.timeout, self.readers = path, timeout, {}

    def connect(self):
        """A connection; a full listen backlog (EAGAIN on unix sockets) is waited out."""
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(self.path)
                return s
            except BlockingIOError:
                s.close()
                time.sleep(0.05)
        raise OSError("the server's listen backlog stays full")

    def read_line(self, s):
        if s not in self.readers:
            self.readers[s] = s.makefile("rb")
        return self.readers[s].readline()

    def close(self, s):
        r = self.readers.pop(s, None)
        if r:
            r.close()
        s.close()

    def exchange(self, payload, s=None):
        """Sends payload (on s, or on a connection of its own) and returns one reply line."""
        own = s is None
        s = s or self.connect()
        s.sendall(payload)
        line = self.read_line(s)
        if own:
            self.close(s)
        return line


def reply_code(line):
    """"ok" for a success reply, the error code for an error reply of the documented shape
    ({"id","ok","error"} exactly), or a description of what else came back."""
    try:
        r = json.loads(line)
    except ValueError:
        return "unparsable reply %r" % line[:80]
    if r.get("ok") is True:
        return "ok"
    if r.get("ok") is not False or set(r) != {"id", "ok", "error"}:
        return "not an error reply %r" % line[:80]
    return r["error"]["code"]
