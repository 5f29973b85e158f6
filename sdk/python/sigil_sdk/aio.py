"""asyncio client: each call of the blocking Client runs in a thread executor,
so the event loop keeps running during a gateway round trip.

    client = AsyncClient(GATEWAY_URL, TOKEN)         # or AsyncClient(Client(...))
    res = await client.sign(key_id, request)

Same methods, arguments, results and exceptions as sigil_sdk.Client (a sign
keeps its Idempotency-Key across retries as there). A cancelled call stops
waiting; the request already sent still completes in its thread."""
import asyncio
import functools

from .client import Client

# the Client methods offered as coroutines
METHODS = ("health", "ready", "metrics", "attestation", "boot_document", "keys",
           "import_key", "rotate_credentials", "update_policy", "rewrap", "disable", "enable",
           "revoke", "delete_key", "audit", "audit_all", "sign", "provision", "rotate",
           "verify_receipt")


class AsyncClient:
    """`AsyncClient(url, token, **Client options)` or `AsyncClient(client)`;
    executor: a concurrent.futures executor (default: the loop's). The
    blocking client is `.client`."""

    def __init__(self, url_or_client, *args, executor=None, **kw):
        if isinstance(url_or_client, Client):
            if args or kw:
                raise TypeError("AsyncClient(client) takes no Client options")
            self.client = url_or_client
        else:
            self.client = Client(url_or_client, *args, **kw)
        self.executor = executor

    async def run(self, fn, *args, **kw):
        """fn(*args, **kw) in the executor, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kw))


def _coroutine(name):
    async def call(self, *args, **kw):
        return await self.run(getattr(self.client, name), *args, **kw)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = getattr(Client, name).__doc__
    return call


for _name in METHODS:
    setattr(AsyncClient, _name, _coroutine(_name))
