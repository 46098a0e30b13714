"""dash WebSocket callbacks: clients that go away mid-callback.

    python repro.py fastapi uvicorn | quart hypercorn | quart uvicorn
    python repro.py fastapi asgi | quart asgi

With a server: serves the app below, then, as clients, one leaves with no
callback running, one closes while its callback runs, and one is closed
mid-callback by a websocket_message hook that closes the socket itself.
Prints what the server logged.
With "asgi": plays, as the ASGI server, a race that real sockets hit only now
and then: a send finds the client gone (uvicorn's ClientDisconnected) while a
frame is still to be read, then the disconnect comes. Prints what the app
raised, or that its handler did not end.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

if __name__ != "__main__":  # the app, as the server imports it
    from dash import Dash, Input, Output, hooks, html

    @hooks.websocket_message()
    async def check_session(websocket, message):
        if message.get("requestId") == "expired":
            await websocket.close(4401, "Session expired")
            return False
        return True

    app = Dash(__name__, backend=os.environ["BACKEND"], websocket_callbacks=True)
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"))
    async def slow(n_clicks):
        await asyncio.sleep(2 if n_clicks else 0)
        return n_clicks

    server = app.server


def request(request_id, n_clicks=1):
    payload = {"output": "out.children", "outputs": {"id": "out", "property": "children"}}
    payload["inputs"] = [{"id": "btn", "property": "n_clicks", "value": n_clicks}]
    return json.dumps({"type": "callback_request", "requestId": request_id, "payload": payload})


async def asgi_race(backend):
    os.environ["BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import repro  # pylint: disable=import-outside-toplevel,import-self

    from uvicorn.protocols.utils import ClientDisconnected  # pylint: disable=C0415

    repro.app._setup_server()  # pylint: disable=protected-access
    events, gone = asyncio.Queue(), asyncio.Event()

    async def send(message):  # the first send finds the client gone, as all after
        if gone.is_set() or message["type"] == "websocket.send":
            gone.set()
            raise ClientDisconnected()

    scope = {"type": "websocket", "scheme": "ws", "path": "/_dash-ws-callback"}
    scope.update(query_string=b"", headers=[(b"host", b"h"), (b"origin", b"http://h")])
    events.put_nowait({"type": "websocket.connect"})
    events.put_nowait({"type": "websocket.receive", "text": request("fast", 0)})
    handler = asyncio.ensure_future(repro.server(scope, events.get, send))
    await asyncio.wait_for(gone.wait(), 10)
    events.put_nowait({"type": "websocket.receive", "text": '{"type": "heartbeat"}'})
    events.put_nowait({"type": "websocket.disconnect", "code": 1006})
    done, _ = await asyncio.wait([handler], timeout=10)
    if not done:
        print("the connection's handler did not end within 10 s", flush=True)
        os._exit(0)  # pylint: disable=protected-access  # it still runs: leave it
    elif handler.exception() is not None:
        error = handler.exception()
        print(f"raised out of the app: {type(error).__module__}.{type(error).__name__}: {error}")
        for inner in getattr(error, "exceptions", ()):
            print(f"  - {type(inner).__module__}.{type(inner).__name__}: {inner}")


if __name__ == "__main__":
    backend, runner, port = sys.argv[1], sys.argv[2], "8765"
    if runner == "asgi":
        asyncio.run(asgi_race(backend))
        sys.exit()
    from websockets.sync.client import connect

    bind = ["--bind", f"127.0.0.1:{port}"] if runner == "hypercorn" else ["--port", port]
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", runner, "repro:server", *bind],
        cwd=os.path.dirname(os.path.abspath(__file__)),
        env=dict(os.environ, BACKEND=backend),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for _ in range(100):  # up to 10 s for the server to listen
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(port))) == 0:
                break
        time.sleep(0.1)
    url, origin = f"ws://127.0.0.1:{port}/_dash-ws-callback", f"http://127.0.0.1:{port}"
    for request_id in ("idle", "tab-closed", "expired"):
        with connect(url, origin=origin) as client:
            idle = request_id == "idle"
            client.send('{"type": "heartbeat"}' if idle else request(request_id))
            time.sleep(0.5)  # the callback runs; the client goes
    time.sleep(3)
    proc.terminate()
    log = proc.communicate(timeout=10)[0]
    print("\n".join(line for line in log.splitlines() if "INFO" not in line))
