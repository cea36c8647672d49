#!/usr/bin/env python3
"""Serve one HTTP connection on stdin/stdout from a directory:
    http_stdio.py DIR [LOG]

The journey's guestfwd rule runs this for each connection the guest makes
to the mirror's address (-netdev user,restrict=on,guestfwd=tcp:10.0.2.100:80-
cmd:...), so the mirror is served by python's http.server with no listening
socket on the host at all.  libslirp hands the connection over as fds 0, 1
and 2, so nothing may be written to stderr: requests go to LOG."""
import http.server
import sys


class StdioHandler(http.server.SimpleHTTPRequestHandler):
    # HTTP/1.1 with Content-Length: apt keeps the connection for many files.
    protocol_version = "HTTP/1.1"
    log_path = None

    def setup(self):
        self.rfile = sys.stdin.buffer
        self.wfile = sys.stdout.buffer

    def finish(self):
        try:
            self.wfile.flush()
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.log_path:
            with open(self.log_path, "a") as log:
                log.write("%s\n" % (fmt % args))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(2)
    StdioHandler.log_path = sys.argv[2] if len(sys.argv) == 3 else None
    try:
        StdioHandler(None, ("guest", 0), None, directory=sys.argv[1])
    except (BrokenPipeError, ConnectionResetError):
        pass


if __name__ == "__main__":
    main()
