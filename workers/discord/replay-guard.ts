import { interactionReceipts } from "../../shared/db/schema";
import type { Database } from "../db/client";

/**
 * Discord accepts a signed interaction for 5 minutes around its timestamp
 * (verify.ts), so a captured request could be sent again in that window with
 * a valid signature. Discord itself never sends one interaction twice: each
 * id is remembered (a unique key in D1, exact under concurrency) and a repeat
 * is answered without running anything.
 */

/** Ids are kept at least this long: twice the signature window, so a replay on either side of it is caught. */
export const INTERACTION_RECEIPT_RETENTION_MS = 60 * 60_000;

export class InteractionReplayedError extends Error {
  constructor(readonly interactionId: string) {
    super(`Interaction ${interactionId} was already received.`);
    this.name = "InteractionReplayedError";
  }
}

export const REPLAYED_MESSAGE = "This interaction was already received, so nothing was done again.";

/**
 * Records the id; the promise resolves the first time and rejects with
 * InteractionReplayedError on a repeat. Started as soon as an interaction
 * arrives and awaited alongside the first lookup, so it adds no round trip.
 */
export function rememberInteraction(db: Database, interactionId: string, now = Date.now()): Promise<void> {
  const receipt = (async () => {
    const inserted = await db
      .insert(interactionReceipts)
      .values({ id: interactionId, receivedAt: now })
      .onConflictDoNothing({ target: interactionReceipts.id });
    if (inserted.meta.changes !== 1) throw new InteractionReplayedError(interactionId);
  })();
  // Awaited where it matters; this only keeps an early return from leaving it unhandled.
  receipt.catch(() => undefined);
  return receipt;
}
