"""`chainrule explore` and the notebook helper: a real server on 127.0.0.1, started and stopped."""

import json
import socket
import subprocess
import sys
import urllib.request

import pytest

import chainrule as cr

pytest.importorskip("fastapi", reason="the explorer needs the 'explore' extra")
pytest.importorskip("uvicorn", reason="the explorer needs the 'explore' extra")

from chainrule.cli import main  # noqa: E402
from chainrule.explorer import notebook  # noqa: E402
from chainrule.explorer.server import BackgroundServer, bind  # noqa: E402


def get(url, data=None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["explore", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--open" in out and "127.0.0.1" in out


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_bad_port_is_refused(port, capsys):
    with pytest.raises(SystemExit) as info:
        main(["explore", "--port", port])
    assert info.value.code == 2
    assert "port" in capsys.readouterr().err


def test_port_in_use_is_a_one_line_error(capsys):
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        assert main(["explore", "--port", str(port)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("chainrule explore: error: cannot listen on 127.0.0.1:")
        assert "\n" not in err
    finally:
        taken.close()


def test_command_serves_on_loopback_and_prints_the_address():
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", "explore", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("chainrule explorer: http://127.0.0.1:"), line
        url = line.split()[2]
        status, body = get(url)
        assert status == 200 and b"chainrule explorer" in body
        status, body = get(url + "api/point", json.dumps(
            {"function": {"expression": "x^2 + 3*y^2"}, "x": 1, "y": 1}).encode())
        assert json.loads(body)["gy"] == 6.0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_listening_socket_is_tcp_so_replies_are_not_delayed():
    # asyncio disables Nagle's algorithm only on sockets whose proto is IPPROTO_TCP; with
    # proto 0, every reply on a kept-alive connection waited ~40 ms for a delayed ACK.
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname())
        accepted, _ = sock.accept()
        assert accepted.proto == socket.IPPROTO_TCP
        accepted.close()
        client.close()
    finally:
        sock.close()


def test_background_server_and_notebook_frame():
    with BackgroundServer() as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        assert get(srv.url + "api/catalog")[0] == 200
    with pytest.raises(OSError):
        get(srv.url + "api/catalog")  # stopped
    pytest.importorskip("IPython", reason="show_app() needs IPython")
    try:
        frame = notebook.show_app(height=500)
        assert frame.src == notebook.server().url and frame.src.startswith("http://127.0.0.1:")
        assert frame.height == 500
        assert get(frame.src)[0] == 200
        assert notebook.show_app().src == frame.src  # one server per kernel
    finally:
        notebook.stop()


def test_concurrent_requests_get_the_same_answers():
    from concurrent.futures import ThreadPoolExecutor

    bodies = [
        ("api/point", {"function": {"expression": "x^2 + 3*y^2"}, "x": 1, "y": 2}),
        ("api/taylor", {"function": {"expression": "sin(x)*y"}, "x": 1, "y": 2, "eta": 0.1}),
        ("api/descent", {"function": {"expression": "x^2 + 3*y^2"}, "x": 1, "y": 1,
                         "steps": 20, "methods": ["gd", "adam"]}),
    ] * 8
    with BackgroundServer() as srv:
        def call(item):
            path, body = item
            status, reply = get(srv.url + path, json.dumps(body).encode())
            reply = json.loads(reply)
            reply.pop("ms")
            return status, json.dumps(reply, sort_keys=True)

        alone = [call(item) for item in bodies[:3]]
        with ThreadPoolExecutor(max_workers=6) as pool:
            together = list(pool.map(call, bodies))
    assert together == alone * 8


def test_requests_run_beside_a_thread_in_no_grad():
    # Grad mode is per thread and the server takes no lock: while another thread of the
    # same process sits inside no_grad, requests run at once and still get gradients.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with cr.no_grad():
            inside.set()
            release.wait(30)
            assert not cr.is_grad_enabled()

    bodies = [
        ("api/point", {"function": {"expression": "x*y"}, "x": 2, "y": 3}),
        ("api/point", {"function": {"network": {"problem": "sin", "wx": "w1_1", "wy": "w2_1"}},
                       "x": 0.5, "y": -0.5}),
        ("api/walkthrough/expression", {"expression": "x*y + sin(x)", "x": 2, "y": 3}),
    ]
    with BackgroundServer() as srv, ThreadPoolExecutor(max_workers=3) as pool:
        alone = [json.loads(get(srv.url + p, json.dumps(b).encode())[1]) for p, b in bodies]
        holder = threading.Thread(target=hold_no_grad)
        holder.start()
        try:
            assert inside.wait(10)
            futures = [pool.submit(get, srv.url + p, json.dumps(b).encode()) for p, b in bodies]
            replies = [f.result(timeout=30) for f in futures]  # no lock: none waits for release
        finally:
            release.set()
            holder.join()
    assert [status for status, _ in replies] == [200, 200, 200]
    together = [json.loads(r) for _, r in replies]
    assert together[0]["gx"] == 3.0 and together[0]["gy"] == 2.0
    for a, b in zip(alone, together):
        a.pop("ms", None), b.pop("ms", None)
        assert a == b
