"""The exceptions a user can cause; each message says what to change."""

from __future__ import annotations


class CarehubError(Exception):
    """Base of every error carehub reports to a user as one line, then exits non-zero."""

    exit_code = 1


class ConfigError(CarehubError):
    """A setting is missing or malformed; the message names the setting and a valid example."""

    exit_code = 2


class ServiceUnavailable(CarehubError):
    """A broker, database or registry did not answer within the retry budget."""

    exit_code = 3

    def __init__(self, service: str, url: str, setting: str, cause: BaseException | None = None):
        self.service, self.url, self.setting = service, url, setting
        first_line = str(getattr(cause, "orig", None) or cause).strip().splitlines()[:1] if cause else []
        name = type(cause).__name__
        text = first_line[0].removeprefix(f"{name}: ") if first_line else ""
        reason = f" ({name}: {text})" if text else f" ({name})" if cause else ""
        super().__init__(
            f"cannot reach {service} at {url}{reason}; check that it is running, "
            f"or set {setting} to the right address"
        )


class PublishError(CarehubError):
    """The broker did not acknowledge records that were sent."""

    exit_code = 3
