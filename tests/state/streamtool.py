#!/usr/bin/env python3
"""Helpers of tests/state: an independent reader of the state stream format (src/state/stream.h)
and a TCP proxy that cuts a migration after a given number of bytes.

  streamtool.py ram FILE          prints the SHA-256 of the RAM records' payloads (equal RAM
                                  content gives equal zstd batches) and the record count
  streamtool.py config-mmu IN OUT MODE
                                  copies a (non-mappable) snapshot with its CONFIG record's MMU
                                  type set to MODE (8 sv39, 9 sv48, 10 sv57), or with MODE "v1"
                                  rewritten as a version 1 record (which has no MMU type)
  streamtool.py proxy LISTEN_PORT TARGET_PORT CUT
                                  forwards one migration connection from 127.0.0.1:LISTEN_PORT
                                  to 127.0.0.1:TARGET_PORT and cuts it (closes both sides) at
                                  CUT: a byte count, G- or G+ (see proxy())
"""
import hashlib
import socket
import struct
import sys
import threading
import time
import zlib

CONFIG = 1
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


def config_mmu(src, dst, mode):
    """Rewrites the CONFIG record (src/machine/vm_state.c: le32 version, ..., then in version 2
    a trailing u8 MMU type) with fresh CRCs; the other records are copied as they are."""
    data = open(src, "rb").read()
    out, pos = bytearray(data[:32]), 32
    while pos < len(data):
        sid, ver, length = struct.unpack_from("<IIQ", data, pos)
        payload = data[pos + 24:pos + 24 + length]
        if sid == CONFIG:
            assert struct.unpack_from("<I", payload)[0] == 2, "not a version 2 CONFIG"
            if mode == "v1":
                payload = struct.pack("<I", 1) + payload[4:-1]
            else:
                payload = payload[:-1] + bytes([int(mode)])
            head = struct.pack("<IIQI", sid, ver, len(payload), zlib.crc32(payload))
            out += head + struct.pack("<I", zlib.crc32(head)) + payload
        else:
            out += data[pos:pos + 24 + length]
        pos += 24 + length
    open(dst, "wb").write(out)


def proxy(listen_port, target_port, mode):
    """Forwards one connection; `mode` says where it cuts (both sides closed at once):
    a number N: after N bytes from the source, or when the destination's 'K' (ready) comes
    if that is earlier ('K' not forwarded); "G-": 'K' forwarded, the source's 'G' (go) not;
    "G+": 'G' forwarded, the destination's 'A' (started) not. The destination's answers are
    'S' (to SYNC), 'K', 'A' in this order."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(1)
    print("ready", flush=True)
    a, _ = srv.accept()
    b = socket.create_connection(("127.0.0.1", target_port))
    cut = int(mode) if mode not in ("G-", "G+") else -1
    back_limit = 1 if cut >= 0 else 2  # answers forwarded: 'S' only, or 'S' and 'K'
    how = ["cut after %d bytes" % cut if cut >= 0 else "cut at " + mode]
    # 'K' is about to go to the source: set before it is sent, so that whatever the main loop
    # receives from the source after seeing it set is 'G' (the source sends 'G' only on 'K',
    # and the destination sends 'K' only after it has the whole stream).
    k_going = threading.Event()
    count = {"received": 0, "forwarded": 0, "stream": 0}  # source -> destination bytes

    def close_all():
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def back():  # destination -> source, byte by byte (a few bytes in all)
        n = 0
        try:
            while n < back_limit or cut >= 0:
                d = b.recv(1)
                if not d:
                    return
                if n == back_limit:  # 'K' in the numeric mode: not forwarded
                    how[0] = "cut at K"
                    break
                if n == 1:
                    count["stream"] = count["received"]
                    k_going.set()
                a.sendall(d)
                n += 1
        except OSError:
            return
        if mode == "G+":  # until 'G' went through; 'A' is never read here
            for _ in range(3000):
                if count["forwarded"] > count["stream"]:
                    break
                time.sleep(0.01)
        close_all()

    threading.Thread(target=back, daemon=True).start()
    sent = 0
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if mode == "G-" and k_going.is_set():  # that is 'G': dropped
                break
            count["received"] += len(d)
            if 0 <= cut < sent + len(d):
                b.sendall(d[:cut - sent])
                sent = cut
                break
            b.sendall(d)
            sent += len(d)
            count["forwarded"] = sent
    except OSError:
        pass
    close_all()
    a.close()
    b.close()
    print("forwarded %d bytes, %s" % (sent, how[0]), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "ram":
        ram_digest(sys.argv[2])
    elif sys.argv[1] == "config-mmu":
        config_mmu(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        proxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
