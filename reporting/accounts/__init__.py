"""Caseworker accounts: passwords, second factors and recovery codes, keys, sign-in on the
web and with API tokens, the sealed session cookie and ended sessions, login throttling,
an admin's changes to accounts, the audit log of what caseworkers did, and the
`flask caseworker …` and `flask audit …` commands."""
