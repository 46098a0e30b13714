"""A WebSocket callback client that dies mid-callback, on real servers.

Every way a client goes away (clean close, TCP reset, a reaping proxy, a
half-open peer) at every stage of a callback, on uvicorn's three WebSocket
implementations (FastAPI backend) and Hypercorn (Quart backend). Each test
asserts what an operator sees: no log record at WARNING or above from any
logger, no traceback or "Task exception was never retrieved" on stderr, no
task of the connection left on the server's loop, and a new client served.
"""
import gc
import importlib
import inspect

import pytest

from ws_disconnect_support import (
    SERVER_IDS,
    SERVERS,
    OperatorView,
    RawClient,
    ReapingProxy,
    ServerThread,
    callback_request,
    leftover_tasks,
    make_app,
    problems,
    wait_until,
)

KILLS = ["close", "reset", "reap", "half-open"]
STAGES = ["sync", "async", "get-props", "stream", "several", "at-response"]
PING = 0.3  # seconds: ping interval and timeout for the half-open peer


def detects_half_open(server, ws_impl):
    """Whether the server times out a peer that stops answering pings."""
    if server != "uvicorn":
        return False  # Hypercorn sends pings but never times them out
    module = importlib.import_module(
        "uvicorn.protocols.websockets."
        + {"websockets-sansio": "websockets_sansio_impl"}.get(
            ws_impl, f"{ws_impl.replace('-', '_')}_impl"
        )
    )
    return "ping_timeout" in inspect.getsource(module)


class Served:
    """An app on a real server, watched as an operator would watch it."""

    def __init__(self, backend, server, ws_impl, ping=None):
        self.app, self.probe = make_app(backend)
        self.view = OperatorView().__enter__()
        self.server = ServerThread(self.app, server, ws_impl, ping=ping)
        self.baseline = self.server.baseline()

    def assert_serves_new_client(self):
        client = RawClient(self.server.port)
        request = callback_request("fast", 7)
        client.send_json(request)
        response = client.response_to(request)
        assert response["payload"]["status"] == "ok"
        assert response["payload"]["data"]["response"] == {
            "fast-out": {"children": "fast 7"}
        }
        client.close_clean()

    def finish(self, capfd):
        """Stop the server; return everything an operator would object to."""
        self.server.stop()
        gc.collect()
        self.view.__exit__(None, None, None)
        return problems(self.view, capfd.readouterr().err)


@pytest.fixture(name="serve")
def fixture_serve(capfd):
    started = []

    def start(backend, server, ws_impl, ping=None):
        served = Served(backend, server, ws_impl, ping)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.server.thread.is_alive():
            served.finish(capfd)


def start_stage(client, served, stage):
    """Put the connection in ``stage``; return when the server is there."""
    names = {"several": ["sync", "async", "stream"]}.get(stage, [stage])
    if stage == "at-response":
        # The response is computed at once: the client goes as it goes out.
        client.send_json(callback_request("fast"))
        return
    for name in names:
        client.send_json(callback_request(name))
    for name in names:
        served.probe.wait_started(name)
    if stage == "get-props":
        client.wait_for(lambda m: m.get("type") == "get_props_request")
    if stage in ("stream", "several"):
        client.wait_for(lambda m: m.get("type") == "set_props")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("kill", KILLS)
@pytest.mark.parametrize("backend,server,ws_impl", SERVERS, ids=SERVER_IDS)
def test_wsdc001_client_dies_mid_callback(
    serve, capfd, backend, server, ws_impl, kill, stage
):
    """The client vanishes mid-callback: nothing to see, nothing left behind."""
    if kill == "half-open" and not detects_half_open(server, ws_impl):
        pytest.skip(f"{ws_impl or server} here never times out an unanswered ping")
    served = serve(backend, server, ws_impl, ping=PING if kill == "half-open" else None)
    proxy = ReapingProxy(served.server.port) if kill == "reap" else None
    client = RawClient(proxy.port if proxy else served.server.port)

    start_stage(client, served, stage)
    if kill == "close":
        client.close_clean()
    elif kill == "reset":
        client.reset()
    elif kill == "reap":
        proxy.reap()
    else:
        client.go_silent()

    # The server notices a half-open peer after a ping interval and timeout;
    # uvicorn's legacy "websockets" implementation then waits out its fixed
    # 10 s close timeout before it reports the disconnect to the app.
    legacy = kill == "half-open" and ws_impl == "websockets"
    left = leftover_tasks(served.server, served.baseline, timeout=15 if legacy else 5)
    assert left == [], f"tasks of the dead connection still on the loop: {left}"
    for name in ("sync", "stream"):
        if name in served.probe.started:
            assert wait_until(
                lambda n=name: served.probe.saw_shutdown.get(n), 5
            ), f"the {name} callback never saw ws.is_shutdown"
    served.assert_serves_new_client()
    if proxy:
        proxy.close()
    client.discard()
    assert served.finish(capfd) == []


@pytest.mark.parametrize("backend,server,ws_impl", SERVERS, ids=SERVER_IDS)
def test_wsdc002_pipelined_requests_then_close(serve, capfd, backend, server, ws_impl):
    """A client that pipelines requests and a heartbeat, then closes at once.

    On dash 4.4.1's Quart backend this left the connection's handler, its
    sender and its callbacks on the loop until server shutdown.
    """
    served = serve(backend, server, ws_impl)
    client = RawClient(served.server.port)
    for name in ("sync", "async", "fast", "stream"):
        client.send_json(callback_request(name))
    client.send_json({"type": "heartbeat"})
    client.close_clean()

    # The server learns of a clean close at once: a second is plenty.
    left = leftover_tasks(served.server, served.baseline, timeout=1.0)
    assert left == [], f"tasks of the closed connection still on the loop: {left}"
    served.assert_serves_new_client()
    client.discard()
    assert served.finish(capfd) == []


@pytest.mark.parametrize("backend,server,ws_impl", SERVERS, ids=SERVER_IDS)
def test_wsdc003_many_clients_die_at_once(serve, capfd, backend, server, ws_impl):
    """Twenty clients with callbacks in flight die together, in mixed ways."""
    served = serve(backend, server, ws_impl)
    clients = [RawClient(served.server.port) for _ in range(20)]
    for i, client in enumerate(clients):
        client.send_json(callback_request(("async", "stream", "fast")[i % 3]))
    served.probe.wait_started("async")
    served.probe.wait_started("stream")
    for i, client in enumerate(clients):
        (client.reset if i % 2 else client.close_clean)()

    left = leftover_tasks(served.server, served.baseline, timeout=5)
    assert left == [], f"tasks of dead connections still on the loop: {left}"
    served.assert_serves_new_client()
    assert served.finish(capfd) == []


@pytest.mark.parametrize("backend,server,ws_impl", SERVERS, ids=SERVER_IDS)
def test_wsdc004_server_stops_mid_callback(serve, capfd, backend, server, ws_impl):
    """The server shuts down with callbacks in flight: no log noise, and the
    thread-pool callback sees ws.is_shutdown."""
    served = serve(backend, server, ws_impl)
    client = RawClient(served.server.port)
    start_stage(client, served, "several")
    backend_server = served.app.backend
    if backend == "quart":  # graceful-shutdown tracking of open sockets
        assert len(backend_server._active_websockets) == 1
    assert served.finish(capfd) == []
    if backend == "quart":
        assert not backend_server._active_websockets
    assert wait_until(lambda: served.probe.saw_shutdown.get("sync"), 5)
    client.discard()
