#!/usr/bin/env python3
"""A real origin process for Gatehouse's integration tests.

Listens on 127.0.0.1 (port 0 = ephemeral), prints "PORT <n>" on stdout once ready, and
serves, over HTTP/1.1 with keep-alive (or HTTPS with --cert/--key):

  /echo...            200 JSON: method, path (raw), headers ([[name, value], ...] as received),
                      client address, connection id, body length
  /status/NNN...      status NNN with a small HTML body and "Server: test-origin"
  /slow?ms=N          waits N ms before answering (OriginReadTimeout tests)
  /close              reads the request, then closes the socket without answering
  /garbage            answers bytes that are not HTTP, then closes
  /stall-body         sends headers (Content-Length: 100) and 10 bytes, then stalls
  /page...            200 HTML "custom error page" (for CustomErrorResponses)
  /set-cookie...      200 with "Set-Cookie: session=abc; Path=/"
  /whoami             200 JSON: the port this origin listens on, whether the connection is
                      TLS, connection id (tells apart several origins behind one edge)
  /counted?key=K&ms=N counts a request under K, waits N ms (default 0), answers "counted"
  /count?key=K        200 text: how many requests /counted saw under K (retry tests)
  anything else       200 text "origin object <path>"

Every response carries "Server: test-origin" and "X-Origin-Conn: <connection id>".
"""
import argparse
import itertools
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

_conn_ids = itertools.count(1)
_counts = {}
_counts_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-origin"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_id = next(_conn_ids)

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin-Conn", str(self.conn_id))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        body = self._body()
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/echo"):
            doc = {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "client": self.client_address[0],
                "conn": self.conn_id,
                "body_len": len(body),
            }
            self._send(200, json.dumps(doc).encode(), "application/json")
        elif path.startswith("/status/"):
            code = int(path.split("/")[2])
            self._send(code, f"<html><body>origin says {code}</body></html>".encode(), "text/html")
        elif path == "/slow":
            ms = int(parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000.0)
            try:
                self._send(200, b"slow object")
            except (BrokenPipeError, ConnectionResetError):  # the viewer or the edge left
                self.close_connection = True
        elif path == "/close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif path == "/garbage":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/stall-body":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
        elif path == "/whoami":
            doc = {
                "port": self.server.server_address[1],
                "tls": isinstance(self.connection, ssl.SSLSocket),
                "conn": self.conn_id,
            }
            self._send(200, json.dumps(doc).encode(), "application/json")
        elif path == "/counted":
            q = parse_qs(url.query)
            key = q.get("key", [""])[0]
            with _counts_lock:
                _counts[key] = _counts.get(key, 0) + 1
            time.sleep(int(q.get("ms", ["0"])[0]) / 1000.0)
            try:
                self._send(200, b"counted")
            except (BrokenPipeError, ConnectionResetError):  # the edge gave up (timeout tests)
                self.close_connection = True
        elif path == "/count":
            key = parse_qs(url.query).get("key", [""])[0]
            with _counts_lock:
                n = _counts.get(key, 0)
            self._send(200, str(n).encode())
        elif path.startswith("/set-cookie"):
            self._send(200, b"cookie set", "text/plain", [("Set-Cookie", "session=abc; Path=/")])
        elif path.startswith("/page"):
            self._send(200, b"<html><body>custom error page</body></html>", "text/html")
        else:
            self._send(200, f"origin object {self.path}".encode())

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    # Room for many simultaneous connections (the default backlog of 5 drops SYNs under load).
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"PORT {srv.server_address[1]}", flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        sys.stdin.read()  # exit when the test closes our stdin (or dies)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
