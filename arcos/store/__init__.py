"""The write side of the store: units of work, the outbox and its relay, housekeeping."""
