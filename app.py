"""Wires the Events API: the Chalice app, its middleware, authorizer and route blueprints."""

import logging

from chalice import Chalice

from chalicelib.api import (
    accounts,
    allocations,
    audit_log,
    buyers,
    check_ins,
    docs,
    events,
    health,
    my_tickets,
    onsale_queue,
    orders,
    payments,
    reports,
    social,
    ticket_types,
    tickets,
    users,
    vouchers,
    waiting_list,
    webhooks,
)
from chalicelib.api.middleware import http_middleware
from chalicelib.auth import authorizer, ticket_keys
from chalicelib.consumers import changes as changes_consumer
from chalicelib.consumers import schedule, side_effects
from chalicelib.settings import get_settings

# Fail at start, naming the variable, when a deployed stage lacks required settings.
settings = get_settings()
ticket_keys.check_configured()

app = Chalice(app_name="events-api")
app.log.setLevel(logging.INFO)
logging.getLogger("chalicelib").setLevel(logging.INFO)

app.register_middleware(http_middleware, "http")
app.register_blueprint(authorizer.bp)
app.register_blueprint(health.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(social.bp)
app.register_blueprint(users.bp)
app.register_blueprint(events.bp)
app.register_blueprint(allocations.bp)
app.register_blueprint(tickets.bp)
app.register_blueprint(ticket_types.bp)
app.register_blueprint(orders.bp)
app.register_blueprint(payments.bp)
app.register_blueprint(buyers.bp)
app.register_blueprint(check_ins.bp)
app.register_blueprint(my_tickets.bp)
app.register_blueprint(audit_log.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(vouchers.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(waiting_list.bp)
app.register_blueprint(onsale_queue.bp)
app.register_blueprint(docs.bp)
app.register_blueprint(changes_consumer.bp)
app.register_blueprint(side_effects.bp)
app.register_blueprint(schedule.bp)
