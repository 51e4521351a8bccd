"""A stand-in for a chat's incoming webhook, for the local stack: the emulator's EventBridge
API destination posts the notification rule's chat payload here, as it would to Slack or
Mattermost.

- POST any path: the body is kept (with the time and the API-key header the connection sent),
  answered 200. The last 200 deliveries are kept in memory and appended to DELIVERIES_FILE.
- GET /deliveries: the kept deliveries, newest last, as JSON.

Usage: chat_receiver.py --port PORT [--file DELIVERIES_FILE]. Listens on 127.0.0.1 only.
"""

import argparse
import collections
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEPT = 200


class Deliveries:
    def __init__(self, path=None):
        self._items = collections.deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self._path = path

    def add(self, path, headers, body):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        item = {
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "path": path,
            "api_key_header": {k: v for k, v in headers.items() if k.lower().startswith("x-sync")},
            "body": body,
            "json": parsed,
        }
        with self._lock:
            self._items.append(item)
            if self._path:
                with open(self._path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(item) + "\n")
        return item

    def all(self):
        with self._lock:
            return list(self._items)


def handler_for(deliveries):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            deliveries.add(self.path, dict(self.headers), body)
            self._answer(200, {"ok": True})

        def do_GET(self):
            if self.path.rstrip("/") == "/deliveries":
                self._answer(200, deliveries.all())
            elif self.path == "/":
                self._answer(200, {"deliveries": len(deliveries.all())})
            else:
                self._answer(404, {"error": "not found"})

        def _answer(self, status, value):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(Deliveries(args.file)))
    server.serve_forever()


if __name__ == "__main__":
    main()
