"""What caseworkers do with reports: triage (list, sort, set status, severity, assignee,
tags and the status note), the organisation's triage tags, downloads, and storing what
the caseworker client encrypted (replies, notes, escalations); the caseworkers' web pages
(pages/: login, enrolment, account, the inbox) and the client's JSON API (api/)."""
