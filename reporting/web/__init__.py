"""What every request and response goes through: security headers, error pages, the
interface language, input shapes and the forms' base, abuse limits, the liveness check,
and the servers that run the app (Werkzeug locally, our gunicorn worker in production)."""
