"""Resolve a room again and again with python-zeroconf, an independent mDNS
responder bound to port 5353 before the room, forgetting what it cached
before each round, so that only an answer heard in that round resolves it.
Prints one JSON line when bound, and one per round; then runs until stdin
closes. Arguments: interface address, instance name, host name, rounds."""
import asyncio
import json
import sys

from zeroconf import DNSQuestionType, IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

SERVICE = "_chatroom._tcp.local."


def say(**event):
    print(json.dumps(event), flush=True)


async def main():
    address, instance, host, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    name = instance + "." + SERVICE
    azc = AsyncZeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    zc = azc.zeroconf
    await zc.async_wait_for_start()
    say(event="bound")
    # The room starts, and another program binds port 5353 after it.
    await asyncio.sleep(2)
    for i in range(rounds):
        for n in (name, host):
            zc.cache.async_remove_records(list(zc.cache.async_entries_with_name(n)))
        info = AsyncServiceInfo(SERVICE, name)
        # As a responder refreshing its cache asks: multicast, from 5353.
        ok = await info.async_request(zc, 3000, question_type=DNSQuestionType.QM)
        say(event="round", ok=bool(ok), port=info.port, addresses=info.parsed_addresses())
        await asyncio.sleep(1)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await azc.async_close()


asyncio.run(main())
