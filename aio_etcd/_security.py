"""TLS contexts and credentials, built once per client."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Sequence

from ._exceptions import EtcdValueError

Cert = str | tuple[str, str]
"""A client certificate: one file holding the certificate and its key, or ``(cert, key)``."""


def tls_context(
    *,
    ca_cert: str | None,
    cert: Cert | None,
    ssl_verify: bool | int,
    ssl_context: ssl.SSLContext | None,
) -> ssl.SSLContext:
    """The context for https: the one given, or one that verifies the server against
    ``ca_cert`` (else the system's CAs) and its host name, unless ``ssl_verify`` is off."""
    if ssl_context is not None:
        if ca_cert is not None or cert is not None:
            raise EtcdValueError("give ssl_context, or ca_cert and cert, not both")
        return ssl_context
    verify = _verify(ssl_verify)
    try:
        context = ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise EtcdValueError(f"ca_cert {ca_cert!r} cannot be loaded: {exc}") from exc
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        given: object = cert
        if isinstance(given, str):
            files: tuple[str, str | None] = (given, None)
        elif isinstance(given, Sequence) and len(given) == 2:
            files = (given[0], given[1])
        else:
            raise TypeError("cert must be a file name or a (cert, key) tuple of file names")
        try:
            context.load_cert_chain(*files)
        except (OSError, ssl.SSLError) as exc:
            raise EtcdValueError(f"cert {cert!r} cannot be loaded: {exc}") from exc
    return context


def _verify(ssl_verify: object) -> bool:
    # Older code passes ssl.CERT_REQUIRED / ssl.CERT_NONE.
    if isinstance(ssl_verify, bool):
        return ssl_verify
    if ssl_verify in (ssl.CERT_REQUIRED, ssl.CERT_OPTIONAL):
        return True
    if ssl_verify == ssl.CERT_NONE:
        return False
    raise TypeError(f"ssl_verify must be True or False, not {ssl_verify!r}")


def basic_auth(username: str | None, password: str | None) -> str | None:
    """The ``Authorization`` header value, or ``None`` without credentials."""
    if username is None and password is None:
        return None
    if not isinstance(username, str) or not username or ":" in username:
        raise EtcdValueError(
            "username must be a non-empty name without ':' when a password is given"
        )
    if not isinstance(password, str):
        raise TypeError("password must be a str when a username is given")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
