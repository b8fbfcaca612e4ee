#!/usr/bin/env python3
"""A tiny authoritative DNS responder over UDP for the vnet DNS-forwarding test (RFC 1035):

  dns-responder.py ADDR PORT NAME IPV4 LOG READY

answers a query for NAME (case-insensitive) of type A (1) with IPV4, other types of NAME with
no answer (NOERROR, "no data"), any other name with NXDOMAIN (RCODE 3), and anything that is
not a well-formed standard query not at all. Each query is logged to LOG as
"SOURCE-IP NAME TYPE RCODE". READY is created once the socket is bound."""
import socket
import struct
import sys


def parse_question(msg):
    """(id, flags, qname, qtype, end of the question) or None when malformed."""
    if len(msg) < 12:
        return None
    ident, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    if flags & 0x8000 or (flags >> 11) & 15 != 0 or qd != 1 or an or ns:
        return None  # a response, not QUERY, or not exactly one question
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n > 63 or i + n > len(msg):
            return None  # compression pointers have no place in a question
        labels.append(msg[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack(">HH", msg[i:i + 4])
    return ident, flags, ".".join(labels).lower(), qtype, i + 4


def answer(msg, name, ipv4):
    q = parse_question(msg)
    if q is None:
        return None, None
    ident, flags, qname, qtype, end = q
    rcode = 0 if qname == name else 3
    ans = b""
    if rcode == 0 and qtype == 1:
        # the answer's name points at the question's (offset 12), class IN, TTL 60 s
        ans = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ipv4)
    # QR, AA, and the query's RD; RA set
    out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    head = struct.pack(">HHHHHH", ident, out_flags, 1, 1 if ans else 0, 0, 0)
    return head + msg[12:end] + ans, (qname, qtype, rcode)


def main():
    addr, port, name, ipv4, log, ready = sys.argv[1:7]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    open(ready, "w").close()
    while True:
        msg, peer = s.recvfrom(4096)
        reply, what = answer(msg, name.lower(), ipv4)
        if reply is None:
            continue
        s.sendto(reply, peer)
        with open(log, "a") as f:
            f.write("%s %s %d %d\n" % (peer[0], what[0], what[1], what[2]))


if __name__ == "__main__":
    main()
