"""CI/CD and security-tool intake: parsed artifacts become evidence, findings and metrics."""
