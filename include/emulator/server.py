"""Run the emulator with uvicorn in a background thread (tests, scripts, the CLI)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from include.emulator.app import build_app
from include.emulator.state import EmulatorState


class EmulatorServer:
    """The emulator on ``http://host:port`` in a daemon thread; a context manager.

    :param state: the state to serve (default: a new :class:`EmulatorState` built from
        ``state_kwargs``, e.g. ``ocds_scale=1000``).
    :param host: interface to bind.
    :param port: port to bind (0: a free port chosen by the OS).
    :param log_level: uvicorn log level.
    :param access_log: log every request (off by default).
    :param tls: serve HTTPS with a certificate generated at start; clients trust
        :attr:`ca_file` (a CA that signed it for ``127.0.0.1`` and ``localhost``).
    """

    def __init__(
        self,
        state: EmulatorState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        access_log: bool = False,
        startup_timeout: float = 10.0,
        tls: bool = False,
        **state_kwargs: Any,
    ) -> None:
        self.state = state if state is not None else EmulatorState(**state_kwargs)
        self.host = host
        self.port = port
        self.log_level = log_level
        self.access_log = access_log
        self.startup_timeout = startup_timeout
        self.tls = None
        if tls:
            from include.emulator.retailnext.tls import generate

            self.tls = generate()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:54321`` (``https://`` with ``tls``; valid once started)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """The PEM file of the CA that signed the generated certificate (``tls`` only)."""
        return self.tls.ca_file if self.tls else None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> EmulatorServer:
        """Bind, serve in a background thread and wait until the port accepts connections.

        :raises RuntimeError: when the server does not come up within ``startup_timeout``.
        """
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            build_app(self.state),
            log_level=self.log_level,
            access_log=self.access_log,
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
            ssl_certfile=self.tls.cert_file if self.tls else None,
            ssl_keyfile=self.tls.key_file if self.tls else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"emulator-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._server.started and self._accepts():
                return self
            if not self._thread.is_alive():
                break
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"emulator did not start on {self.url} within {self.startup_timeout}s")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer({self.url}, running={self.running})"
