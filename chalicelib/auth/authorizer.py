"""The Chalice custom authorizer, in its own blueprint so route modules can import it."""

from __future__ import annotations

from chalice import AuthResponse, AuthRoute, Blueprint
from chalice.app import AuthRequest

from chalicelib.auth.principal import (
    BUYER,
    ORDER,
    ORDER_ROLES,
    SCANNER,
    WAITING,
    Principal,
    authenticate,
)
from chalicelib.errors import Unauthorized

bp = Blueprint(__name__)


# ttl_seconds=0: API Gateway would otherwise cache a token's answer for 300 s, letting a
# blocked or deleted user's token work for five more minutes (`chalice local` never caches,
# so only the deployment would show it).
@bp.authorizer(ttl_seconds=0)
def bearer_auth(auth_request: AuthRequest) -> AuthResponse:
    try:
        principal = authenticate(auth_request.token)
    except Unauthorized:
        # An empty route list is a Deny policy: API Gateway answers 403.
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(
        routes=allowed_routes(principal),
        principal_id=principal.user_id,
        # API Gateway stringifies context values; keep them strings everywhere.
        context={
            "user_id": principal.user_id,
            "role": principal.role or "",
            "event_id": principal.event_id or "",
        },
    )


def allowed_routes(principal: Principal) -> list[str | AuthRoute]:
    """Accounts reach every route (each checks its own rules); a scanner only its event's door
    routes, a buyer only the /my-* routes (and reading orders) and an order's token only that
    order: API Gateway refuses them everything else before the API function runs."""
    if principal.role == BUYER:
        return [
            AuthRoute("/my-tickets", ["GET"]),
            AuthRoute("/my-tickets/resend", ["POST"]),
            AuthRoute("/my-tickets/*", ["DELETE"]),
            AuthRoute("/my-data", ["DELETE"]),
            AuthRoute("/orders/*", ["GET"]),  # its own orders (the route checks whose)
        ]
    if principal.role in ORDER_ROLES:
        order = f"/orders/{principal.user_id}"
        routes = [AuthRoute(order, ["GET"]), AuthRoute(f"{order}/pay", ["POST"])]
        if principal.role == ORDER:
            routes.append(AuthRoute(f"{order}/cancel", ["POST"]))
        return routes
    if principal.role == WAITING:
        return [AuthRoute(f"/waiting-list/{principal.user_id}", ["DELETE"])]
    if principal.role == SCANNER:
        event = f"/events/{principal.event_id}"
        return [
            AuthRoute(f"{event}/check-ins", ["GET", "POST"]),
            AuthRoute(f"{event}/revoked-tickets", ["GET"]),
        ]
    return ["*"]
