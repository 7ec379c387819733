"""The Flask app through its test client, each database test on SQLite and PostgreSQL."""
