"""gunicorn settings for the reporting service: no access log, nothing about clients.

Run with `gunicorn -c deploy/gunicorn.conf.py "reporting:create_app()"`. The full
production set-up (Tor in front, systemd) comes with the deployment guide.
"""

# Tor (or a reverse proxy on the same host) connects here; never listen publicly.
bind = "127.0.0.1:8000"
workers = 2
# Threads let one worker keep receiving uploads while another request waits on the disk.
threads = 4
# Uploads over Tor are slow: allow a long request before a worker is considered stuck.
timeout = 300

# An access line would record who came, when and what they asked for: none is written.
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "info"
# Forwarded headers are not trusted: the app never learns or stores a client address.
forwarded_allow_ips = ""
proxy_allow_ips = ""

# No "Server: gunicorn" header to help fingerprint the service (gunicorn has no setting for
# it; responses read this module global when they are made).
import gunicorn.http.wsgi  # noqa: E402

gunicorn.http.wsgi.SERVER = "server"
