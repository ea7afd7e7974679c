"""pytest fixtures for usermock (https://github.com/usermock/usermock).

Only the standard library and pytest: the plugin starts the `usermock`
binary on a free port and speaks its admin API over HTTP. No Rust toolchain
is needed, only the binary (on PATH, or named by USERMOCK_BIN).
"""

from .server import Usermock, UsermockSession, UsermockError, start

__all__ = ["Usermock", "UsermockSession", "UsermockError", "start"]
