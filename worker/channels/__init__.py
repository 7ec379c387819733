"""Delivery channels: the ways the worker hands ciphertext to an organisation."""
