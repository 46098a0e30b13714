"""dash WebSocket callbacks: clients that go away mid-callback.

    python repro.py fastapi uvicorn | quart hypercorn | quart uvicorn

Serves the app below with the given server, then, as clients: one closes
while its callback runs; one is closed mid-callback by a websocket_message
hook (an expired session, say). Prints what the server logged.
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
        await asyncio.sleep(2)
        return n_clicks

    server = app.server
else:
    from websockets.sync.client import connect

    backend, runner, port = sys.argv[1], sys.argv[2], "8765"
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
    for request_id in ("tab-closed", "expired"):
        payload = {"output": "out.children", "outputs": {"id": "out", "property": "children"}}
        payload["inputs"] = [{"id": "btn", "property": "n_clicks", "value": 1}]
        message = {"type": "callback_request", "requestId": request_id, "payload": payload}
        with connect(url, origin=origin) as client:
            client.send(json.dumps(message))
            time.sleep(0.5)  # the callback runs; the client goes
    time.sleep(3)
    proc.terminate()
    log = proc.communicate(timeout=10)[0]
    print("\n".join(line for line in log.splitlines() if "INFO" not in line))
