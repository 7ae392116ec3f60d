"""SCM and CI webhooks: verified deliveries become evidence."""
