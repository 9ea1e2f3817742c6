"""Reports: /events/{id}/report and /sellers/{id}/report."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params
from chalicelib.api.responses import json_response, model_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.money import from_minor
from chalicelib.services.sales import exports, reports
from chalicelib.services.sales.reports import Figures

bp = ApiBlueprint(__name__)
TAG = "reports"


def _figures(figures: Figures, currency: str) -> dict:
    return {
        "sold": figures.sold, "held": figures.held, "checked_in": figures.checked_in,
        "gross": from_minor(figures.gross, currency),
        "refunded": from_minor(figures.refunded, currency),
        "net": from_minor(figures.net, currency),
    }  # fmt: skip


def _split(figures: Figures, currency: str) -> dict:
    return {
        "collected_by_seller": from_minor(figures.collected_by_seller, currency),
        "online": from_minor(figures.online, currency),
    }


@bp.route(
    "/events/{event_id}/report",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="What the event sold, per ticket type and per seller (its organizer, admin)",
    description="From counters kept by the same transactions as the sales, refunds and "
    "check-ins: three reads whatever was sold, and it agrees with the stored tickets at any "
    "instant. `sold` counts valid tickets; `gross` all that paid orders paid (a payment "
    "refunded because it came after its hold ended counts in neither gross nor refunded); "
    "cancelling a ticket of an order paid outside the API records a refund of its price.",
    tag=TAG,
    responses={200: "responses.EventReportEnvelope"},
)
def event_report(event_id: str) -> Response:
    report = reports.event_report(actor=principal_of(bp.current_request), event_id=event_id)
    currency = report.event.currency_code
    out = schemas.responses.EventReportOut(
        event_id=report.event.id,
        title=report.event.title,
        currency_code=currency,
        ticket_types=[
            schemas.responses.TypeFiguresOut(
                ticket_type_id=t.id,
                name=t.name,
                waiting=int(t.waiting),
                **_figures(figures, currency),
            )
            for t, figures in report.types
        ],
        sellers=[
            schemas.responses.SellerFiguresOut(
                seller_id=pool.seller_id,
                role=pool.seller_role,
                **_figures(figures, currency),
                **_split(figures, currency),
            )
            for pool, figures in report.sellers
        ],
        totals=schemas.responses.FiguresOut(**_figures(report.totals, currency)),
        waiting=sum(int(t.waiting) for t, _ in report.types),
    )
    return model_response(schemas.responses.EventReportEnvelope(report=out))


@bp.route(
    "/sellers/{seller_id}/report",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="What a seller sold, per event and type (that seller, organizers for their own "
    "events, admin)",
    description="One line per event the seller holds a pool of, with the money it collected "
    "itself (paid outside the API) and what buyers paid online; a reseller's lines break down "
    "per ticket type it was given. An organizer sees only the lines of its own events.",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.SellerReportOut"},
)
def seller_report(seller_id: str) -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    lines, token = reports.seller_report(
        actor=principal_of(request), seller_id=seller_id, limit=limit, next_token=next_token
    )
    events = []
    for line in lines:
        currency = line.event.currency_code
        types = [
            schemas.responses.SellerTypeOut(
                ticket_type_id=t.ticket_type_id,
                name=t.name,
                share=t.share,
                sold=t.figures.sold,
                held=t.figures.held,
                gross=from_minor(t.figures.gross, currency),
                refunded=from_minor(t.figures.refunded, currency),
                net=from_minor(t.figures.net, currency),
            )
            for t in line.types
        ]
        events.append(
            schemas.responses.SellerEventOut(
                event_id=line.event.id,
                title=line.event.title,
                time=line.event.time,
                currency_code=currency,
                ticket_types=types,
                **_figures(line.figures, currency),
                **_split(line.figures, currency),
            )
        )
    out = schemas.responses.SellerReportOut(seller_id=seller_id, events=events, next_token=token)
    return model_response(out)


_EXPORT_DOC = (
    "Every order line of the event (any status): order id, status, created, paid, buyer name, "
    "email and phone, type, quantity, unit price, discount, refunded, seller, voucher, the "
    "line's valid ticket codes and how many got in. Written page by page (memory flat in the "
    "number of orders) to storage and answered with 303 See Other to a download link valid "
    "for 15 minutes (`curl -L` follows it); the body carries the same link. Text starting with "
    "=, +, -, @, a tab or a carriage return gets a leading apostrophe, so no cell is a formula."
)


def _export(event_id: str, fmt: str) -> Response:
    made = exports.export_orders(actor=principal_of(bp.current_request), event_id=event_id,
                                 fmt=fmt)  # fmt: skip
    out = schemas.responses.ExportEnvelope(
        export=schemas.responses.ExportOut(
            url=made.url, expires_at=made.expires_at, rows=made.rows, filename=made.filename
        )
    )
    return json_response(out.as_json(), status=303, headers={"Location": made.url})


@bp.route(
    "/events/{event_id}/orders.csv",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's orders as CSV, UTF-8 with a byte order mark (its organizer, admin)",
    description=_EXPORT_DOC,
    tag=TAG,
    responses={303: "responses.ExportEnvelope"},
)
def orders_csv(event_id: str) -> Response:
    return _export(event_id, "csv")


@bp.route(
    "/events/{event_id}/orders.xlsx",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's orders as an Excel workbook (its organizer, admin)",
    description=_EXPORT_DOC,
    tag=TAG,
    responses={303: "responses.ExportEnvelope"},
)
def orders_xlsx(event_id: str) -> Response:
    return _export(event_id, "xlsx")
