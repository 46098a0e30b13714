"""A real browser goes away while a WebSocket callback runs.

A click starts a slow callback; then the tab is closed, or the browser
process is killed. The callback must see ``ws.is_shutdown``, nothing may reach
the log at WARNING or above or stderr as a traceback, and a new page must be
served.
"""
import logging
import sys
from urllib.parse import urlparse

import psutil

from ws_disconnect_support import (
    OperatorView,
    RawClient,
    callback_request,
    make_app,
    problems,
    wait_until,
)


def rebind_closed_log_streams():
    """uvicorn's log handlers, configured by an earlier test's server, may
    still hold that test's (closed) captured stderr."""
    for logger in [logging.getLogger()] + [
        logging.getLogger(name) for name in logging.root.manager.loggerDict
    ]:
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                handler.stream = sys.stderr


def start_slow_callback(dash_duo, probe):
    dash_duo.find_element("#sync-btn").click()
    probe.wait_started("sync")


def assert_new_page_served(dash_duo):
    dash_duo.driver.get(dash_duo.server_url)
    dash_duo.find_element("#fast-btn").click()
    dash_duo.wait_for_text_to_equal("#fast-out", "fast 1")


def test_wsdc060_tab_closed_mid_callback(dash_duo, capfd):
    rebind_closed_log_streams()
    app, probe = make_app("fastapi")
    with OperatorView() as view:
        dash_duo.start_server(app)
        driver = dash_duo.driver
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        spare = driver.current_window_handle
        driver.switch_to.window(first)
        driver.get(dash_duo.server_url)
        start_slow_callback(dash_duo, probe)

        driver.close()
        driver.switch_to.window(spare)
        assert wait_until(lambda: probe.saw_shutdown.get("sync"), 10)
        assert_new_page_served(dash_duo)
    assert problems(view, capfd.readouterr().err) == []


def test_wsdc061_browser_killed_mid_callback(dash_duo, capfd):
    rebind_closed_log_streams()
    app, probe = make_app("fastapi")
    with OperatorView() as view:
        dash_duo.start_server(app)
        start_slow_callback(dash_duo, probe)

        driver_process = psutil.Process(dash_duo.driver.service.process.pid)
        for child in driver_process.children(recursive=True):
            child.kill()
        assert wait_until(lambda: probe.saw_shutdown.get("sync"), 10)

        # The browser is gone: a new client speaks the protocol directly.
        client = RawClient(urlparse(dash_duo.server_url).port)
        request = callback_request("fast")
        client.send_json(request)
        assert client.response_to(request)["payload"]["status"] == "ok"
        client.close_clean()
    assert problems(view, capfd.readouterr().err) == []
