"""Replicate's webhooks, received: signed job addresses, a verifying inbox, and its HTTP route.

Push first, poll as a safety net: a verified delivery wakes the job's follower with the newest
state; the follower still reads the prediction now and then (see `jobs._follow`).
"""

from demo_app.webhooks._door import InboxSource, WebhookDoor, WebhookEndpoint
from demo_app.webhooks._inbox import Answer, Target, WebhookInbox
from demo_app.webhooks._links import ROUTE_PATH, WebhookLinks
from demo_app.webhooks._receipt import Receipt
from demo_app.webhooks._route import BodyTooLarge, read_capped, webhook_route
from demo_app.webhooks._seen import Seen, SeenInDatabase, SeenInMemory

__all__ = [
    "ROUTE_PATH",
    "Answer",
    "BodyTooLarge",
    "InboxSource",
    "Receipt",
    "Seen",
    "SeenInDatabase",
    "SeenInMemory",
    "Target",
    "WebhookDoor",
    "WebhookEndpoint",
    "WebhookInbox",
    "WebhookLinks",
    "read_capped",
    "webhook_route",
]
