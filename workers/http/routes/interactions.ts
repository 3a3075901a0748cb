import { InvalidJsonError, ServiceUnavailableError, UnauthorizedError, ValidationError } from "../../../shared/errors";
import { dispatchInteraction } from "../../discord/dispatch";
import { InteractionSchema } from "../../discord/interaction-schema";
import { verifyDiscordRequest } from "../../discord/verify";
import type { App } from "../context";

/** The body cap of POST /interactions: a message command's payload may exceed the app's 64 KiB default. */
export const INTERACTION_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * POST /interactions (docs/architecture.md §4): Discord's interactions endpoint. The raw
 * body is read as text and its Ed25519 signature checked before anything
 * parses it (401 otherwise); bodies over INTERACTION_BODY_LIMIT_BYTES are refused (413). After a
 * valid signature: 400 for malformed JSON or a payload that is not an
 * interaction; everything else is answered 200 with an interaction response.
 */
export function registerInteractions(app: App): void {
  app.post("/interactions", async (c) => {
    const publicKeyHex = c.get("config").DISCORD_PUBLIC_KEY;
    if (!publicKeyHex) {
      throw new ServiceUnavailableError(
        "Discord interactions are not configured (DISCORD_PUBLIC_KEY).",
        "FEATURE_NOT_CONFIGURED",
      );
    }
    const rawBody = await c.req.text();
    const verified = await verifyDiscordRequest({
      rawBody,
      signature: c.req.header("x-signature-ed25519"),
      timestamp: c.req.header("x-signature-timestamp"),
      publicKeyHex,
    });
    if (!verified.ok) throw new UnauthorizedError(verified.message, verified.code);

    let payload: unknown;
    try {
      payload = JSON.parse(rawBody);
    } catch (error) {
      throw new InvalidJsonError(error instanceof Error ? error.message : String(error));
    }
    const parsed = InteractionSchema.safeParse(payload);
    if (!parsed.success) {
      throw new ValidationError("The body is not a Discord interaction this endpoint accepts.", {
        code: "INVALID_INTERACTION",
        details: parsed.error.issues.map((issue) => ({
          path: issue.path.join("."),
          code: issue.code,
          message: issue.message,
        })),
      });
    }

    const response = await dispatchInteraction(
      {
        env: c.env,
        config: c.get("config"),
        logger: c.get("logger"),
        requestId: c.get("requestId"),
        waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      },
      parsed.data,
    );
    return c.json(response, 200);
  });
}
