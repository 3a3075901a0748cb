import { DurableObject } from "cloudflare:workers";

/**
 * Per-community WebSocket fan-out (docs/architecture.md §7.5). The dashboards issue fills
 * this in; until then an upgrade is refused with an explicit 501.
 */
export class RealtimeHub extends DurableObject<Env> {
  ping(): "pong" {
    return "pong";
  }

  override async fetch(_request: Request): Promise<Response> {
    return Response.json(
      {
        error: {
          code: "NOT_IMPLEMENTED",
          message: "Realtime updates are not implemented yet.",
          requestId: _request.headers.get("x-request-id") ?? "",
        },
      },
      { status: 501 },
    );
  }
}
