import { createRoute, z } from "@hono/zod-openapi";
import { UnprocessableError } from "../../../shared/errors";
import { MAX_SIGNAL_TEXT_LENGTH, SIGNAL_ERROR_CODES, type SignalError } from "../../../shared/signals/errors";
import { parseSignal } from "../../../shared/signals/parser";
import { NormalizedSignalSchema } from "../../../shared/signals/schema";
import type { App } from "../context";
import { rateLimit } from "../middleware/rate-limit";
import { errorResponse } from "../schemas";

const ParseRequest = z
  .object({
    text: z.string().openapi({
      description: `The signal as posted (at most ${MAX_SIGNAL_TEXT_LENGTH} characters; longer text answers 422 TOO_LONG).`,
      example: "BUY AAPL 10 @ 190.50 SL 185 TP 195",
    }),
    now: z.iso.datetime({ offset: true }).optional().openapi({
      description: "When the message was posted; resolves dates written without a year. Default: now.",
      example: "2026-11-23T15:00:00Z",
    }),
  })
  .strict()
  .openapi("SignalParseRequest");

const SignalErrorDetail = z
  .object({
    code: z.enum(SIGNAL_ERROR_CODES),
    message: z.string(),
    start: z.number().int().openapi({ description: "Offset of the offending part in `text` (UTF-16 code units)" }),
    end: z.number().int().openapi({ description: "End offset, exclusive" }),
  })
  .openapi("SignalErrorDetail");

const route = createRoute({
  middleware: [rateLimit({ name: "signals-parse", keyBy: "ip", limit: 60, periodMs: 60_000 })],
  method: "post",
  path: "/api/v1/signals/parse",
  tags: ["signals"],
  summary: "Parse a free-text trade signal into the normalized signal (public, 60 requests a minute per IP)",
  request: { body: { required: true, content: { "application/json": { schema: ParseRequest } } } },
  responses: {
    200: {
      description: "The normalized signal",
      content: {
        "application/json": { schema: z.object({ signal: NormalizedSignalSchema }).openapi("SignalParseResult") },
      },
    },
    400: errorResponse("Malformed JSON or body shape"),
    415: errorResponse("Body is not JSON"),
    422: {
      description: "Not a valid signal: `error.code` is SIGNAL_INVALID and `error.details` lists every problem found",
      content: {
        "application/json": {
          schema: z.object({
            error: z.object({
              code: z.literal("SIGNAL_INVALID"),
              message: z.string(),
              requestId: z.string(),
              details: z.array(SignalErrorDetail),
            }),
          }),
        },
      },
    },
    429: errorResponse("Rate limited (see Retry-After)"),
  },
});

export function registerSignalsParse(app: App): void {
  app.openapi(route, (c) => {
    const { text, now } = c.req.valid("json");
    const result = parseSignal(text, now === undefined ? {} : { now: new Date(now) });
    if (result.ok) return c.json({ signal: result.signal }, 200);
    throw new UnprocessableError(summarize(result.errors), {
      code: "SIGNAL_INVALID",
      details: result.errors.map(({ code, message, start, end }) => ({ code, message, start, end })),
    });
  });
}

function summarize(errors: SignalError[]): string {
  const [first] = errors;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
  return `The text is not a valid signal: ${first?.message ?? "unreadable"}${more}`;
}
