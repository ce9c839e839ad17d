"""Redis keys of accounts: revocations and rate-limit counters (one place, as rooms/keys.py is
for lots). Global, single keys: none needs to share a slot with another."""

from __future__ import annotations


class AccountKeys:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def revoked_token(self, jti: str) -> str:
        """Set while a token id is revoked; expires with the token."""
        return f"{self.namespace}:auth:revoked:{jti}"

    def revoked_account(self, account_id: int) -> str:
        """Unix seconds: tokens of the account issued at or before are void."""
        return f"{self.namespace}:auth:account-revoked:{account_id}"

    def revoked_registration(self, registration_id: int) -> str:
        """Unix seconds: bid credentials of the registration issued at or before are void."""
        return f"{self.namespace}:auth:registration-revoked:{registration_id}"

    @property
    def revocations(self) -> str:
        """Pub/sub channel: ``jti:<id>``, ``account:<id>`` or ``registration:<id>`` for each
        revocation."""
        return f"{self.namespace}:auth:revocations"

    def counter(self, scope: str, ident: str, window: int) -> str:
        return f"{self.namespace}:limit:{scope}:{ident}:{window}"
