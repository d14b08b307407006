"""One exception tree for the hub. Messages say what to do, never what a value was.

    HubError
    ├── ConfigError          settings, policy or key file unusable: refuse to start
    │   └── KeyFileError     missing / unsafe permissions / malformed key file
    ├── CryptoError          a payload cannot be decrypted or authenticated
    ├── AuthError            no or unknown credential (HTTP 401)
    │   └── ForbiddenError   a known principal may not do this (HTTP 403)
    └── BrokerUnavailable    the broker did not acknowledge (HTTP 503, retry later)
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(HubError):
    """Configuration cannot be used; the process must not start."""


class KeyFileError(ConfigError):
    """The key file is missing, readable by others, or malformed."""


class CryptoError(HubError):
    """Decryption or authentication of a payload failed."""


class AuthError(HubError):
    """Missing or unknown credential."""


class ForbiddenError(AuthError):
    """The principal is known but not allowed to do this."""


class BrokerUnavailable(HubError):
    """The broker did not acknowledge in time; the caller should retry later."""
