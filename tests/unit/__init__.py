"""Pure units: no app, no database, no process of ours; each runs in milliseconds."""
