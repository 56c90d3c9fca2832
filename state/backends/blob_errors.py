"""What the Azure Storage service (or the SDK on its way there) says, as one clear line for the user.

Every message is built here from aibplan's own words, the service's error code and where the state
is (a URL without its query string); the service's free text and the SDK's exception text are never
passed on as they are, because they can carry a request URL with a SAS signature in it. `scrub` is the
last guard: any secret the settings hold is cut out of a message before it leaves.

Log lines too: urllib3 logs each request's URL, SAS signature included, at DEBUG. Whoever turns that
logging on (an application embedding aibplan, a debugging session) must not find a secret in it, so a
filter on the HTTP loggers cuts the secrets of every azureblob backend opened in this process out of
their records (`guard_logs`).
"""

from __future__ import annotations

import enum
import logging
import re
import threading
from urllib.parse import parse_qsl

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from ..redact import redact_text
from .base import BackendError
from .settings import ENV_CONNECTION_STRING, ENV_SAS_TOKEN, AzureBlobSettings

_AUTH_CODES = {
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "AuthorizationResourceTypeMismatch",
    "AuthorizationServiceMismatch",
    "AuthorizationProtocolMismatch",
    "AuthorizationSourceIPMismatch",
    "InvalidAuthenticationInfo",
    "InsufficientAccountPermissions",
    "NoAuthenticationInformation",
}
_QUERY = re.compile(r"\?[^\s'\"]*")


def error_code(exc: AzureError) -> str:
    """The service's error code (`ContainerNotFound`, `ConditionNotMet`, ...), or '' when it gave none."""
    code = getattr(exc, "error_code", None)
    if isinstance(code, enum.Enum):
        code = code.value
    return str(code) if code else ""


def status(exc: AzureError) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


class BlobErrors:
    """Turns SDK exceptions into BackendError lines for one backend's settings."""

    def __init__(self, settings: AzureBlobSettings, account: str) -> None:
        self.settings = settings
        self.account = account
        self._secrets = _secret_parts(settings)

    def scrub(self, text: str) -> str:
        """`text` with every secret of the settings (and anything that looks like one) cut out."""
        for secret in self._secrets:
            text = text.replace(secret, "<secret>")
        return redact_text(_QUERY.sub("?<query>", text))

    def error(self, message: str) -> BackendError:
        return BackendError(self.scrub(message))

    def translate(self, exc: AzureError, doing: str, where: str) -> BackendError:
        """One line for an SDK exception raised while `doing` (e.g. "read the state") at `where`."""
        code = error_code(exc)
        sign_in = self.settings.sign_in
        if code == "ContainerNotFound":
            return self.error(
                f"the container {self.settings.container!r} does not exist in the storage account "
                f"{self.account}; create it (az storage container create --name {self.settings.container} "
                "--auth-mode login ...) or set backend.container"
            )
        if type(exc).__name__ == "AzureSigningError":
            # The SDK could not sign the request: the key is not a key (not base64, cut short).
            return self.error(
                f"cannot sign requests to the storage account {self.account} with the account key in "
                f"{ENV_CONNECTION_STRING}: it is not a valid key; copy it again from the account's keys"
            )
        if isinstance(exc, ClientAuthenticationError) and not code and status(exc) is None:
            # Raised before any request was sent: the credential had no token to give.
            return self.error(_no_credential(sign_in))
        if code in _AUTH_CODES or status(exc) in (401, 403) or isinstance(exc, ClientAuthenticationError):
            return self.error(
                f"the storage account {self.account} refused to let aibplan {doing} ({code or status(exc)}), "
                f"signed in with {sign_in}: {_auth_advice(self.settings)}"
            )
        if code == "AccountIsDisabled":
            return self.error(f"the storage account {self.account} is disabled; aibplan cannot {doing}")
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return self.error(
                f"cannot reach the storage account at {self.account} to {doing} ({_network_reason(exc)}); "
                "check backend.accountUrl and the network, then run the command again"
            )
        if isinstance(exc, HttpResponseError):
            answered = " ".join(str(part) for part in (status(exc), code or exc.reason) if part)
            return self.error(f"cannot {doing} at {where}: the storage service answered {answered}")
        return self.error(f"cannot {doing} at {where}: {type(exc).__name__}")


def _secret_parts(settings: AzureBlobSettings) -> tuple[str, ...]:
    parts: list[str] = []
    for secret in settings.secrets():
        parts.append(secret)
        for piece in re.split(r"[;&?]", secret):
            name, _, value = piece.partition("=")
            if name.strip().lower() in ("accountkey", "sharedaccesssignature", "sig") and len(value) >= 8:
                parts.append(value)
        for name, value in parse_qsl(secret.lstrip("?"), keep_blank_values=False):
            if name == "sig" and value:
                parts.append(value)
    # Longest first, so that a secret containing another is cut whole.
    return tuple(sorted(set(parts), key=len, reverse=True))


def _no_credential(sign_in: str) -> str:
    return (
        f"could not sign in to Azure Storage with {sign_in}: no credential was available. Sign in with "
        "`az login`, run where a managed identity or workload identity is set up, or set AZURE_CLIENT_ID, "
        f"AZURE_TENANT_ID and AZURE_CLIENT_SECRET; for an emulator set {ENV_CONNECTION_STRING}"
    )


def _auth_advice(settings: AzureBlobSettings) -> str:
    if settings.connection_string:
        return f"check the account name and key in {ENV_CONNECTION_STRING}"
    if settings.sas_token:
        return (
            f"check that the SAS token in {ENV_SAS_TOKEN} is valid, unexpired and allows read, add, create, "
            "write, delete and list on the container"
        )
    return (
        "give the signed-in identity the 'Storage Blob Data Contributor' role on the container "
        "(or the account), and check that the account allows Entra ID sign-in"
    )


def _network_reason(exc: AzureError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "getaddrinfo" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if "timed out" in text or "timeout" in text:
        return "timed out"
    if "certificate" in text or "ssl" in text:
        return "the TLS handshake failed"
    return "the connection failed"


# The loggers that write request URLs or headers: urllib3's connection pool (the URL, with its query
# string, at DEBUG) and azure-core's HTTP logging policy (it redacts most, but not everything).
_HTTP_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.storage.blob",
)


class _SecretFilter(logging.Filter):
    """Rewrites a log record whose text holds a known secret or a SAS signature."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: tuple[str, ...]) -> None:
        with self._lock:
            self.secrets.update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        cleaned = text
        for secret in sorted(self.secrets, key=len, reverse=True):
            cleaned = cleaned.replace(secret, "<secret>")
        cleaned = redact_text(cleaned)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


_FILTER = _SecretFilter()


def guard_logs(settings: AzureBlobSettings) -> None:
    """Keep this backend's secrets out of the HTTP libraries' log records, in this whole process."""
    _FILTER.add(_secret_parts(settings))
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
