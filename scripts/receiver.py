"""Stands in for the presigned S3 ResponseURL during `make invoke`: prints each PUT it receives."""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
        try:
            shown = json.dumps(json.loads(body), indent=2)
        except ValueError:
            shown = body.decode(errors="replace")
        print(f"response PUT (Content-Type: {self.headers.get('Content-Type')!r}):\n{shown}", flush=True)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
