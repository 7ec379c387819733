"""Getting ciphertext to where it must go: the outbox written in the submission's
transaction, the addresses the service may send to, and the `flask` commands for channels
and the outbox. The worker (worker/) does the sending."""
