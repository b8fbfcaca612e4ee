#!/usr/bin/env python3
"""Helpers of tests/state: an independent reader of the state stream format (src/state/stream.h)
and a TCP proxy that cuts a migration after a given number of bytes.

  streamtool.py ram FILE          prints the SHA-256 of the RAM records' payloads (equal RAM
                                  content gives equal zstd batches) and the record count
  streamtool.py proxy LISTEN_PORT TARGET_PORT CUT_BYTES
                                  forwards one connection from 127.0.0.1:LISTEN_PORT to
                                  127.0.0.1:TARGET_PORT and closes both sides after CUT_BYTES
                                  bytes from the source (or forwards all if CUT_BYTES < 0)
"""
import hashlib
import socket
import struct
import sys
import threading
import zlib

RAM_PAGES = 5
END = 0xFFFF


def ram_digest(path):
    data = open(path, "rb").read()
    assert data[:8] == b"RVSTATE\0", "bad magic"
    assert struct.unpack_from("<I", data, 28)[0] == zlib.crc32(data[:28]), "header crc"
    pos, h, n = 32, hashlib.sha256(), 0
    while True:
        sid, ver, length, pcrc, hcrc = struct.unpack_from("<IIQII", data, pos)
        assert hcrc == zlib.crc32(data[pos:pos + 20]), "record header crc"
        payload = data[pos + 24:pos + 24 + length]
        assert pcrc == zlib.crc32(payload), "payload crc"
        pos += 24 + length
        if sid == RAM_PAGES:
            h.update(payload)
            n += 1
        if sid == END:
            break
    print(h.hexdigest(), n)


def proxy(listen_port, target_port, cut):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(1)
    print("ready", flush=True)
    a, _ = srv.accept()
    b = socket.create_connection(("127.0.0.1", target_port))
    done = threading.Event()

    def back():  # destination -> source (the acknowledgements)
        try:
            while not done.is_set():
                d = b.recv(65536)
                if not d:
                    break
                a.sendall(d)
        except OSError:
            pass
        done.set()

    threading.Thread(target=back, daemon=True).start()
    sent = 0
    try:
        while not done.is_set():
            d = a.recv(65536)
            if not d:
                break
            if 0 <= cut < sent + len(d):
                b.sendall(d[:cut - sent])
                break
            b.sendall(d)
            sent += len(d)
    except OSError:
        pass
    done.set()
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "ram":
        ram_digest(sys.argv[2])
    else:
        proxy(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
