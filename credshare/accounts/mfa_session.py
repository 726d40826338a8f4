"""Whether this session completed its second factor: the mark StaffMfaRequiredMiddleware
looks for before it lets an account with power through.

The mark is set (receivers.py) when the session signs in an account that has an authenticator
(allauth's sign-in asks every such account for its code before it signs in: its MFA
authenticate stage, which no setting of ours skips), when a code or security key is given
again in the session (allauth's mfa_reauthenticate), and when an authenticator is set up in
the session (its code was just given). It is dropped when the account's last authenticator is
removed. A session that signed in with a password alone has none, whatever power its account
gains later."""

import time

SESSION_KEY = "credshare_mfa_completed_at"


def completed(session) -> bool:
    return bool(session.get(SESSION_KEY))


def mark(session) -> None:
    session[SESSION_KEY] = int(time.time())


def forget(session) -> None:
    session.pop(SESSION_KEY, None)
