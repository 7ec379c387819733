"""Celery worker that delivers ciphertext to organisations; it comes with the worker issue."""
