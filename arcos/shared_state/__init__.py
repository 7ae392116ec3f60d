"""State several ARCOS instances share through the Redis of ARCOS_BROKER_URL, other than
events (arcos/broker.py): the connection with its outage handling (redis_state.py) and
epochs that tell every instance its cache may be stale (epoch.py). Rate limits built on
it live with access control (arcos/auth/redis_rate_limit.py)."""
