"""A client that sends garbage gets a clear answer and harms no one else.

A binary frame closes with 1003; text that is not a JSON object, or a message
that breaks the renderer protocol, closes with 1007. Each is one WARNING line
naming the reason, without a traceback, and another open connection is
unaffected. A well-formed request for a callback the client may not call is
answered with an error response on a connection that stays open.
"""
import gc
import logging

import pytest

from ws_disconnect_support import (
    SERVER_IDS,
    SERVERS,
    OperatorView,
    RawClient,
    ServerThread,
    callback_request,
    make_app,
    problems,
)


def request_with(**fields):
    message = callback_request("fast")
    message.update(fields)
    return message


def request_with_payload(**fields):
    message = callback_request("fast")
    message["payload"].update(fields)
    return message


# (id, how to send it, the close code the client must see)
BAD_FRAMES = [
    ("binary", lambda c: c.send_frame(0x2, b"\x00\x01binary"), 1003),
    ("not-json", lambda c: c.send_text("{not json"), 1007),
    ("json-list", lambda c: c.send_text("[1, 2]"), 1007),
    ("json-number", lambda c: c.send_text("42"), 1007),
    ("json-null", lambda c: c.send_text("null"), 1007),
    ("type-not-string", lambda c: c.send_json({"type": 5}), 1007),
    ("payload-list", lambda c: c.send_json(request_with(payload=[1])), 1007),
    (
        "payload-missing",
        lambda c: c.send_json(
            {"type": "callback_request", "requestId": "r", "rendererId": "x"}
        ),
        1007,
    ),
    ("request-id-list", lambda c: c.send_json(request_with(requestId=[1])), 1007),
    (
        "get-props-request-id-list",
        lambda c: c.send_json(
            {"type": "get_props_response", "requestId": [1], "payload": {}}
        ),
        1007,
    ),
    ("renderer-id-number", lambda c: c.send_json(request_with(rendererId=5)), 1007),
    (
        "output-not-string",
        lambda c: c.send_json(request_with_payload(output=["fast-out"])),
        1007,
    ),
]


@pytest.fixture(name="served", params=SERVERS, ids=SERVER_IDS)
def fixture_served(request, capfd):
    backend, server, ws_impl = request.param
    app, _ = make_app(backend)
    with OperatorView() as view:
        running = ServerThread(app, server, ws_impl)
        yield running, view
        running.stop()
        gc.collect()
    capfd.readouterr()


def assert_serves(client, n_clicks):
    request = callback_request("fast", n_clicks)
    client.send_json(request)
    response = client.response_to(request)
    assert response["payload"]["data"]["response"] == {
        "fast-out": {"children": f"fast {n_clicks}"}
    }


@pytest.mark.parametrize(
    "send,code", [f[1:] for f in BAD_FRAMES], ids=[f[0] for f in BAD_FRAMES]
)
def test_wsdc040_bad_frame_closes_with_a_clear_code(served, capfd, send, code):
    server, view = served
    bystander = RawClient(server.port)
    assert_serves(bystander, 1)

    offender = RawClient(server.port)
    send(offender)
    assert offender.wait_close() == code

    assert_serves(bystander, 2)
    bystander.close_clean()
    warnings = view.at_least(logging.WARNING)
    assert len(warnings) == 1, view.lines()
    assert warnings[0].name.startswith("dash.")
    assert not warnings[0].exc_info
    stderr = capfd.readouterr().err
    assert [p for p in problems(view, stderr) if not p.startswith("WARNING")] == []


def test_wsdc041_unknown_callback_gets_an_error_response(served, capfd):
    server, view = served
    client = RawClient(server.port)
    request = request_with_payload(
        output="nowhere.children",
        outputs={"id": "nowhere", "property": "children"},
    )
    client.send_json(request)
    response = client.response_to(request)
    assert response["payload"]["status"] == "error"
    assert "nowhere.children" in response["payload"]["message"]
    assert_serves(client, 3)  # the connection stays open
    client.close_clean()
    warnings = view.at_least(logging.WARNING)
    assert len(warnings) == 1 and not warnings[0].exc_info, view.lines()
    assert "Traceback" not in capfd.readouterr().err


def test_wsdc042_unknown_message_type_is_ignored(served, capfd):
    server, view = served
    client = RawClient(server.port)
    client.send_json({"type": "something-new", "payload": [1, 2]})
    assert_serves(client, 4)
    client.close_clean()
    assert problems(view, capfd.readouterr().err) == []


def test_wsdc043_callback_not_allowed_over_websocket(served, capfd):
    """A callback without websocket=True, requested once websocket_callbacks
    is off, gets an error response; the connection stays open."""
    server, view = served
    client = RawClient(server.port)
    server.app._websocket_callbacks = False  # pylint: disable=protected-access
    request = callback_request("fast")
    client.send_json(request)
    response = client.response_to(request)
    assert response["payload"]["status"] == "error"
    assert "websocket=True" in response["payload"]["message"]
    client.send_json({"type": "heartbeat"})
    client.wait_for(lambda m: m.get("type") == "heartbeat_ack")
    client.close_clean()
    warnings = view.at_least(logging.WARNING)
    assert len(warnings) == 1 and not warnings[0].exc_info, view.lines()
    assert "Traceback" not in capfd.readouterr().err


class RejectHeartbeats:
    """Stands in for the app's hooks: a websocket_message hook that ends the
    session on a heartbeat, as a session-expiry hook would."""

    @staticmethod
    def get_hooks(name):
        def expire(_websocket, message):
            return (4002, "Session expired") if message["type"] == "heartbeat" else True

        return [expire] if name == "websocket_message" else []


def test_wsdc044_rejecting_message_hook_closes_quietly(served, capfd):
    """A hook's rejection is app policy: the hook's close code, no log noise."""
    server, view = served
    bystander = RawClient(server.port)
    server.app._hooks = RejectHeartbeats()  # pylint: disable=protected-access
    client = RawClient(server.port)
    assert_serves(client, 5)
    client.send_json({"type": "heartbeat"})
    assert client.wait_close() == 4002
    assert_serves(bystander, 6)
    bystander.close_clean()
    assert problems(view, capfd.readouterr().err) == []
