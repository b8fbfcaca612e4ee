#!/usr/bin/env python3
"""A tiny reader of classic pcap files (the format `rvisor net capture` writes), for the vnet
test. Prints one summary line per frame and checks what it is asked to:

  pcap-check.py FILE summary             one line per frame: src dst ethertype [dhcp TYPE]
  pcap-check.py FILE dhcp MAC            the DHCP message types to/from MAC, in order
  pcap-check.py FILE count-mac MAC       frames with MAC as source or destination
  pcap-check.py FILE count               frames in the file

Exit status 2 when the file is not a valid pcap file (bad magic, truncated record)."""
import struct
import sys

DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
              7: "RELEASE", 8: "INFORM"}


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        sys.exit("pcap: file shorter than its header")
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("pcap: bad magic %#x" % magic)
    major, minor, _, _, snaplen, linktype = struct.unpack("<HHiIII", data[4:24])
    if (major, minor) != (2, 4) or linktype != 1:
        sys.exit("pcap: version %d.%d linktype %d (expected 2.4, Ethernet)" % (major, minor, linktype))
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            sys.exit("pcap: truncated record header")
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        if incl > snaplen or incl > orig or off + incl > len(data):
            sys.exit("pcap: bad record length")
        yield data[off:off + incl]
        off += incl


def mac(b):
    return ":".join("%02x" % x for x in b)


def dhcp_type(f):
    """The DHCP message type of an IPv4/UDP 67<->68 frame, else None."""
    if len(f) < 14 + 20 + 8 or f[12:14] != b"\x08\x00" or f[23] != 17:
        return None
    ihl = (f[14] & 15) * 4
    udp = 14 + ihl
    sport, dport = struct.unpack(">HH", f[udp:udp + 4])
    if {sport, dport} != {67, 68}:
        return None
    opts = udp + 8 + 240
    while opts + 1 < len(f):
        code = f[opts]
        if code == 0:
            opts += 1
            continue
        if code == 255:
            break
        length = f[opts + 1]
        if code == 53 and length == 1:
            return DHCP_TYPES.get(f[opts + 2], "?")
        opts += 2 + length
    return "BOOTP"


def main():
    path, what = sys.argv[1], sys.argv[2]
    arg = sys.argv[3].lower() if len(sys.argv) > 3 else None
    fs = list(frames(path))
    if what == "count":
        print(len(fs))
    elif what == "summary":
        for f in fs:
            t = dhcp_type(f)
            print(mac(f[6:12]), mac(f[0:6]), f[12:14].hex(), "dhcp " + t if t else "")
    elif what == "count-mac":
        print(sum(1 for f in fs if mac(f[0:6]) == arg or mac(f[6:12]) == arg))
    elif what == "dhcp":
        print(" ".join(t for f in fs for t in [dhcp_type(f)]
                       if t and arg in (mac(f[0:6]), mac(f[6:12]), mac(f[14 + 20 + 8 + 28:][:6]))))
    else:
        sys.exit("unknown request " + what)


if __name__ == "__main__":
    main()
