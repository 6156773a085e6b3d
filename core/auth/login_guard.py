"""What a sign-in attempt may do and what it counts (kernel: Flask-free), for
:func:`core.auth.services.authenticate`.

An attempt is trusted when it presents a valid device cookie for the account
(:mod:`core.auth.devices`): the account's wait (:mod:`core.auth.throttle`) does not apply to it
and its failures count for the device only, whose limit revokes it. Any other attempt is
untrusted: it waits while the account does, and its failures count for the submitted address.
Every refusal is audited, with ``trusted_device`` and, when throttled, what the attempt presented
(``device_cookie``: absent, invalid, revoked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import devices, throttle
from core.clock import Clock
from core.errors import AuthenticationFailed
from core.identity.authz import Actor
from core.identity.models import User


class Attempt:
    """One sign-in attempt for ``email`` (``user`` when an account has it)."""

    def __init__(
        self,
        session: Session,
        email: str,
        user: User | None,
        *,
        ip: str | None,
        cookies: devices.DeviceCookies | None,
        device_cookie: str | None,
        clock: Clock,
    ) -> None:
        self.session, self.email, self.user, self.clock = session, email, user, clock
        self.now: dt.datetime = clock.now()
        self.failed_actor = Actor(None, email.strip().lower()[:254], None, None, ip)
        self.object_id: object = user.id if user else "-"
        self.device, self.state = devices.recognise(
            session, cookies, device_cookie, user, now=self.now
        )

    @property
    def trusted(self) -> dict[str, bool]:
        return {"trusted_device": self.device is not None}

    def _refuse(self, action: AccountAction, after: Mapping[str, object]) -> None:
        audit.record(
            self.session,
            self.failed_actor,
            action,
            "user",
            self.object_id,
            clock=self.clock,
            after=after,
        )

    def refuse_while_throttled(self) -> None:
        """Raise ``AuthenticationFailed`` (audited) while an untrusted attempt must wait."""
        if self.device is not None:
            return
        waiting = throttle.blocked_until(self.session, self.email, now=self.now)
        if waiting is not None:
            after = {"until": waiting.isoformat(), **self.trusted}
            after["device_cookie"] = self.state.value
            self._refuse(AccountAction.LOGIN_THROTTLED, after)
            raise AuthenticationFailed("invalid e-mail or password")

    def fail(self) -> AuthenticationFailed:
        """Count and audit a failure; the error to raise."""
        self._refuse(AccountAction.LOGIN_FAILED, {**self.trusted})
        if self.device is not None:
            if devices.record_failure(self.session, self.device, now=self.now):
                self._refuse(AccountAction.DEVICE_REVOKED, {"failures": devices.MAX_FAILURES})
            return AuthenticationFailed("invalid e-mail or password")
        delay = throttle.record_failure(self.session, self.email, now=self.now)
        if delay is not None:
            failures = throttle.failures(self.session, self.email)
            after = {"failures": failures, "delay_seconds": int(delay.total_seconds())}
            self._refuse(AccountAction.LOGIN_THROTTLE, after)
        return AuthenticationFailed("invalid e-mail or password")

    def succeed(self) -> None:
        """A trusted device's count starts again; an untrusted success clears the account's count
        (a trusted one leaves it: the owner signing in does not shorten an attacker's wait)."""
        if self.device is None:
            throttle.clear(self.session, self.email)
        else:
            throttle.clear_device(self.session, self.device.nonce)
