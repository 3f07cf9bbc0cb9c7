"""Register a _chatroom._tcp room with python-zeroconf, an independent mDNS
implementation, until stdin closes: what a room served by another stack
would look like to our browser."""
import socket
import sys

from zeroconf import IPVersion, ServiceInfo, Zeroconf

address = sys.argv[1]
info = ServiceInfo(
    "_chatroom._tcp.local.",
    "Zeroconf Room._chatroom._tcp.local.",
    port=7466,
    properties={"v": "1", "id": "0c0123456789abcd", "name": "Zeroconf Room ☕",
                "fp": "SHA256:" + "Z" * 42 + "A", "addrs": address},
    server="zc-host.local.",
    # An IPv6 address too: zeroconf 0.47 sends a malformed NSEC record for
    # IPv4-only services, which miekg/dns rejects.
    addresses=[socket.inet_aton(address), socket.inet_pton(socket.AF_INET6, "::1")],
)
zc = Zeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
zc.register_service(info)
print("registered", flush=True)
sys.stdin.read()
zc.unregister_service(info)
zc.close()
