"""Sends one request line to an rvisor API socket with descriptors (SCM_RIGHTS) and prints the
reply line (tests/state/migfd-test.sh, docs/api.md "Passing a descriptor").
Usage: fdpass.py SOCKET LINE KIND [N]
KIND: none (no descriptor), pipe (N pipe ends), socket (a connected unix stream socket)."""
import array
import socket
import sys


def main():
    path, line, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    keep = []
    fds = []
    if kind == "pipe":
        import os
        for _ in range(n):
            r, w = os.pipe()
            keep += [r, w]
            fds.append(r)
    elif kind == "socket":
        a, b = socket.socketpair()
        keep += [a, b]
        fds.append(a.fileno())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    data = (line + "\n").encode()
    if fds:
        s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        s.sendall(data)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    print(reply.decode().strip())
    s.close()


main()
