"""The Redis-backed broker that lets several ARCOS instances share their events
(chosen by ARCOS_BROKER_URL; arcos/broker.py's in-process broker is the default)."""

from arcos.redis_broker.broker import RedisBroker

__all__ = ["RedisBroker"]
