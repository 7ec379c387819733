"""Real processes: servers, workers, gunicorn, the receiver, CLIs, tor, the stock age tools."""
