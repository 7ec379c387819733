"""An organisation as its admins set it up: the keys new reports are encrypted to, retention
and notices, partner organisations and delivery channels, and the admin pages (pages/)
where all of it, and the organisation's caseworker accounts and triage tags, is managed."""
