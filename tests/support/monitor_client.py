"""popek's human monitor on a unix socket, as the test scripts drive it.

    from monitor_client import Monitor
    mon = Monitor(path)            # -monitor unix:PATH,server,nowait
    text = mon.cmd("info status")  # the reply, without the prompt
    mon = StdioMonitor(proc)       # -monitor stdio, on proc's pipes

The socket may not exist yet when popek has just been started: the
constructor retries for connect_timeout seconds.  Each reply must come
within io_timeout seconds.  A closed monitor or a missing reply raises
MonitorError, an AssertionError, so a test's failure path reports it.
"""
import socket
import time

PROMPT = b"(popek) "


class MonitorError(AssertionError):
    pass


class StdioMonitor:
    """The monitor on popek's own stdin and stdout (-monitor stdio), for a
    process started with stdin=PIPE, stdout=PIPE."""

    def __init__(self, proc):
        self.proc = proc
        self.read()  # the banner

    def read(self):
        out = b""
        while not out.endswith(PROMPT):
            byte = self.proc.stdout.read(1)
            if not byte:
                raise MonitorError("monitor output ended: %r" % out)
            out += byte
        return out[:-len(PROMPT)].decode()

    def cmd(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self.read()


class Monitor:
    def __init__(self, path, connect_timeout=30, io_timeout=60, echo=False):
        deadline = time.monotonic() + connect_timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise MonitorError(f"no monitor socket at {path}")
                time.sleep(0.05)
        self.sock.settimeout(io_timeout)
        self.echo = echo
        self.buf = b""
        self.read()  # the banner

    def read(self):
        """Everything up to the next prompt, without it."""
        while PROMPT not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise MonitorError("the monitor did not answer") from None
            if not chunk:
                raise MonitorError("the monitor closed")
            self.buf += chunk
        text, _, self.buf = self.buf.partition(PROMPT)
        return text.decode("utf-8", "replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        out = self.read()
        if self.echo:
            print(f"(popek) {line}\n{out}", end="")
        return out

    def timed(self, line):
        """(reply, seconds it took)."""
        t0 = time.monotonic()
        out = self.cmd(line)
        return out, time.monotonic() - t0

    def quit(self):
        """Ask popek to quit; the monitor closes without a reply."""
        self.sock.sendall(b"quit\n")
        self.sock.close()
