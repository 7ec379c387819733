"""The reference receiver an NGO runs to take deliveries from the reporting service.

It checks each Standard Webhooks signature, refuses stale or replayed
deliveries, and stores every age ciphertext exactly once, for caseworkers to
decrypt offline. It is separate from the service: it imports only `crypto`,
so an NGO can run (and read) it without the rest of the code.
"""
