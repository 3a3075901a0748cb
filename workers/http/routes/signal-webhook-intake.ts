import { createRoute, z } from "@hono/zod-openapi";
import { MANAGEMENT_REFUSALS } from "../../../shared/execution/trade-management";
import { NormalizedSignalSchema } from "../../../shared/signals/schema";
import { TRADERSPOST_ACTIONS } from "../../../shared/signals/traderspost";
import { WEBHOOK_SIGNAL_ERROR_CODES } from "../../../shared/signals/webhook-errors";
import { receiveWebhookSignal } from "../../signal-webhooks/receive";
import type { App } from "../context";
import { errorResponse, jsonResponse } from "../schemas";

export const SIGNAL_WEBHOOK_BODY_LIMIT_BYTES = 16 * 1024;

const numberOrText = z.union([z.number(), z.string()]);
const time = z.union([z.string(), z.number().int()]).optional().openapi({
  description:
    "When the sender sent the signal: ISO 8601 with a zone (TradingView's {{timenow}}) or epoch milliseconds. Older than the community's maximum signal age (default 60 s): 422 SIGNAL_EXPIRED. A body with a time is one alert: sent again, it is executed once.",
  example: "2026-01-28T17:12:19Z",
});

/** Documentation only: the body is read by shared/signals/webhook-body.ts, whatever its content type (TradingView may say text/plain). */
const TradersPostBody = z
  .looseObject({
    ticker: z.string().openapi({
      example: "AAPL",
      description: "A ticker, a crypto pair (BTCUSD) or an option contract (SQ 240510C68)",
    }),
    action: z.enum(TRADERSPOST_ACTIONS).openapi({
      description:
        "cancel and exit manage the provider's open trade on the ticker (cancel: its unfilled entries; exit: those and the position, or quantityType percent_of_position of it); add is refused (422 UNSUPPORTED_ACTION)",
    }),
    sentiment: z.enum(["bullish", "bearish", "flat", "long", "short"]).optional(),
    quantity: numberOrText.optional(),
    quantityType: z.enum(["fixed_quantity", "percent_of_position"]).optional(),
    orderType: z.enum(["market", "limit", "stop", "stop_limit"]).optional(),
    limitPrice: numberOrText.optional(),
    stopPrice: numberOrText.optional(),
    price: numberOrText.optional(),
    signalPrice: numberOrText.optional(),
    takeProfit: z
      .object({ limitPrice: numberOrText, price: numberOrText, percent: numberOrText, amount: numberOrText })
      .partial()
      .optional()
      .openapi({ description: "Exactly one of limitPrice, price, percent, amount" }),
    stopLoss: z
      .object({
        type: z.enum(["stop", "trailing_stop"]),
        stopPrice: numberOrText,
        percent: numberOrText,
        amount: numberOrText,
        trailPercent: numberOrText,
        trailAmount: numberOrText,
      })
      .partial()
      .optional()
      .openapi({
        description:
          "A fixed stop: exactly one of stopPrice, percent, amount. A trailing stop (type trailing_stop): exactly one of trailPercent, trailAmount; followers get a reduce-only trailing stop after their fill",
      }),
    timeInForce: z.enum(["day", "gtc", "ioc", "fok"]).optional(),
    optionType: z.enum(["call", "put"]).optional(),
    expiration: z.string().optional().openapi({ example: "2026-12-18" }),
    strikePrice: numberOrText.optional(),
    time,
  })
  .openapi("TradersPostSignal", {
    description: "TradersPost's webhook JSON as TradersPost documents it; see the signal-webhooks spec for each field",
  });

const NormalizedBody = z.object({ signal: NormalizedSignalSchema, time }).strict().openapi("NormalizedSignalBody");
const TextBody = z
  .object({ text: z.string().openapi({ example: "BUY AAPL 10 @ 190.50 SL 185 TP 195" }), time })
  .strict()
  .openapi("TextSignalBody");

const ReceiptSchema = z
  .object({
    signalId: z.string().nullable().openapi({
      description:
        "The signal posted, or for a management body the signal whose trades were managed (null only for a double post of a management body whose first copy was cut off by a restart)",
    }),
    status: z.enum(["accepted", "expired", "refused", "duplicate", "managed"]).openapi({
      description: "managed: a management body (text, TradersPost cancel or exit) acted on the provider's open trade",
    }),
    summary: z.object({
      message: z.string().openapi({ example: "accepted: 3 followers → 3 orders queued" }),
      code: z.string().optional().openapi({ description: "Why it was refused, expired or a duplicate" }),
      followers: z.number().int().optional(),
      ordersQueued: z.number().int().optional(),
      ordersReduced: z.number().int().optional(),
      skipped: z.record(z.string(), z.number().int()).optional(),
      canceledEntries: z.number().int().optional().openapi({ description: "Management: entries canceled" }),
      stopsMoved: z.number().int().optional().openapi({ description: "Management: stops moved" }),
      closesQueued: z.number().int().optional().openapi({ description: "Management: closes sent" }),
    }),
  })
  .openapi("WebhookSignalReceipt");

const SignalRefusedSchema = z.object({
  error: z.object({
    code: z.enum(["SIGNAL_INVALID", "SIGNAL_EXPIRED", "MANAGEMENT_REFUSED"]),
    message: z.string(),
    requestId: z.string(),
    details: z
      .array(
        z.object({
          code: z.enum([...WEBHOOK_SIGNAL_ERROR_CODES, ...MANAGEMENT_REFUSALS]).openapi({
            description:
              "A problem of the body, or with MANAGEMENT_REFUSED the executor's reason (NO_OPEN_TRADE, AMBIGUOUS_TRADE...)",
          }),
          message: z.string(),
          field: z.string().nullable().openapi({
            description: "The body field at fault (ticker, stopLoss.percent, signal.entry, time)",
          }),
          start: z.number().int().optional().openapi({ description: "In a {text} body: offset of the offending part" }),
          end: z.number().int().optional(),
        }),
      )
      .optional()
      .openapi({ description: "With SIGNAL_INVALID: every problem found; with MANAGEMENT_REFUSED: the reason code" }),
  }),
});

const route = createRoute({
  method: "post",
  operationId: "receiveWebhookSignal",
  path: "/webhooks/signals/{providerKey}",
  tags: ["webhooks"],
  summary:
    "A provider's signal from outside Discord (TradingView alerts, TradersPost JSON); the 256-bit key in the path is the credential",
  request: {
    params: z.object({
      providerKey: z
        .string()
        .openapi({ description: "The webhook's key (43 base64url characters), as /webhook create showed it" }),
    }),
    headers: z.object({
      "x-signature": z.string().optional().openapi({
        description:
          "Optional: sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's signing secret>. Verified when sent.",
      }),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: {
            oneOf: [
              { $ref: "#/components/schemas/TradersPostSignal" },
              { $ref: "#/components/schemas/NormalizedSignalBody" },
              { $ref: "#/components/schemas/TextSignalBody" },
            ],
          },
        },
      },
    },
  },
  responses: {
    202: jsonResponse(
      ReceiptSchema,
      "Handed to the community's executor; `status` is its verdict (a double post or repeat is `duplicate`)",
    ),
    400: errorResponse("Malformed JSON (INVALID_JSON) or none of the three body forms (UNRECOGNIZED_BODY)"),
    401: errorResponse("x-signature was sent and does not match the body (INVALID_SIGNATURE)"),
    404: errorResponse("No active webhook has this key, unknown and revoked alike (SIGNAL_WEBHOOK_NOT_FOUND)"),
    413: errorResponse(`The body is over ${SIGNAL_WEBHOOK_BODY_LIMIT_BYTES} bytes (PAYLOAD_TOO_LARGE)`),
    422: jsonResponse(
      SignalRefusedSchema,
      "Not a signal this platform executes (SIGNAL_INVALID, every problem in details), its time is beyond the community's maximum signal age (SIGNAL_EXPIRED), or management the executor refused (MANAGEMENT_REFUSED, the reason code in details and the message: NO_OPEN_TRADE, AMBIGUOUS_TRADE, STOP_THROUGH_MARKET...)",
    ),
    429: errorResponse(
      "More than 60 requests a minute or 500 an hour for this webhook (RATE_LIMITED, see Retry-After)",
    ),
    503: errorResponse(
      "Stored but the executor could not take it (EXECUTOR_UNAVAILABLE): send it again; or a sent x-signature could not be checked because the signing secret could not be read (SIGNING_SECRET_UNAVAILABLE)",
    ),
  },
});

/** POST /webhooks/signals/:providerKey (workers/signal-webhooks/receive.ts does the work). */
export function registerSignalWebhookIntake(app: App): void {
  app.openAPIRegistry.register("TradersPostSignal", TradersPostBody);
  app.openAPIRegistry.register("NormalizedSignalBody", NormalizedBody);
  app.openAPIRegistry.register("TextSignalBody", TextBody);
  app.openapi(route, async (c) => {
    const receipt = await receiveWebhookSignal({
      env: c.env,
      config: c.get("config"),
      logger: c.get("logger"),
      providerKey: c.req.param("providerKey"),
      rawBody: await c.req.text(),
      signature: c.req.header("x-signature"),
      onCommunity: (communityId) => c.set("communityId", communityId),
    });
    return c.json(receipt, 202);
  });
}
