"""The store: its write side (units of work, the outbox and its relay, housekeeping) and
its schema (migrating, the migration history, adopting stores from before migrations)."""
