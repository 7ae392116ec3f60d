"""Why a delivery is turned away, in the webhooks' own terms.

Providers, signature checks and body readers raise these and know nothing of HTTP; the
webhook route (`routes.py`) is the one place that answers them with a status and a body.
"""

from __future__ import annotations


class DeliveryRefused(Exception):
    """A delivery that is not accepted; the message says what the sender should fix."""


class NotVerified(DeliveryRefused):
    """The delivery's signature, signing key or token is missing or does not match."""


class MalformedDelivery(DeliveryRefused):
    """The body or a required header cannot be read as the provider's delivery."""


class UnsupportedDeliveryType(DeliveryRefused):
    """The body comes in a media type the provider never sends."""
