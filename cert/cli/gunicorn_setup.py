"""What ``cert web`` tells gunicorn besides address, workers and timeout.

* Its own log lines (start, workers booted or killed, bind failures) go through
  :mod:`core.logs`, like the application's: one JSON object per line on stderr with
  ``CERT_LOG_FORMAT=json``. Gunicorn's access log stays off: the application writes one
  ``vigie.access`` line per request, with the request id (:mod:`core.web.request_ids`).
* Which peers may set forwarding headers. ``CERT_PROXY_COUNT`` is the one authority: with N > 0
  the application's ProxyFix takes the client address, scheme and host from the last N
  ``X-Forwarded-*`` values, whoever the peer is (in a container network the proxy's address is
  not known in advance). Gunicorn then trusts any peer (``*``) for the scheme headers, which can
  only agree with ProxyFix, since ProxyFix sets ``wsgi.url_scheme`` again from the same header.
  With 0 (no proxy) gunicorn trusts no peer, so a client cannot claim ``https``.
  ``forwarder_headers`` is emptied in both cases: otherwise a trusted peer's ``SCRIPT_NAME`` or
  ``PATH_INFO`` header would rewrite the path the application routes, behind the proxy's back.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from core import logs
from core.config import Config


def gunicorn_options(config: Config) -> dict[str, Any]:
    """Gunicorn settings that follow from the configuration (``cfg.set`` names)."""
    return {
        "logger_class": logger_class(config.log_format, config.log_level),
        "forwarded_allow_ips": "*" if config.proxy_count else "",
        "forwarder_headers": "",
        # no gunicornc socket in $HOME: two servers of one host would share its path, and the
        # image's user has no writable home
        "control_socket_disable": True,
    }


def logger_class(log_format: str, level: str) -> type[Logger]:
    """A gunicorn logger whose error log is written by :func:`core.logs.configure`."""

    class VigieGunicornLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)  # also run again when the arbiter reloads (SIGHUP)
            logs.configure(log_format, level)
            error_log: logging.Logger = self.error_log
            for handler in list(error_log.handlers):
                error_log.removeHandler(handler)
            error_log.setLevel(level)
            error_log.propagate = True  # to the root logger's Vigie handler

    return VigieGunicornLogger
