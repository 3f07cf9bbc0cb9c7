"""Browse for _chatroom._tcp with python-zeroconf, an independent mDNS
implementation, and print one JSON line per change: what a member's
machine running another stack would see. Runs until stdin closes."""
import json
import sys
import threading

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

SERVICE = "_chatroom._tcp.local."


def say(**event):
    print(json.dumps(event), flush=True)


def on_change(zeroconf, service_type, name, state_change):
    if state_change is ServiceStateChange.Removed:
        say(event="removed", name=name)
        return
    info = zeroconf.get_service_info(service_type, name, timeout=3000)
    if info is None:
        say(event="unresolved", name=name)
        return
    txt = {k.decode(): (v.decode("utf-8", "replace") if v is not None else None)
           for k, v in info.properties.items()}
    say(event=state_change.name.lower(), name=name, port=info.port,
        addresses=info.parsed_addresses(), txt=txt)


zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
ServiceBrowser(zc, SERVICE, handlers=[on_change])
say(event="browsing")
sys.stdin.read()
zc.close()
