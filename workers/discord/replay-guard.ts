import type { Database } from "../../platform/db/client";
import { interactionReceipts } from "../../shared/db/schema";

/**
 * Discord accepts a signed interaction for 5 minutes around its timestamp
 * (verify.ts), so a captured request could be sent again in that window with
 * a valid signature. Discord itself never sends one interaction twice: each
 * id is remembered (a unique key in D1, exact under concurrency) and a repeat
 * is answered without running anything.
 */

/** Ids are kept at least this long: well beyond the signature window on either side. */
export const INTERACTION_RECEIPT_RETENTION_MS = 60 * 60_000;

export class InteractionReplayedError extends Error {
  constructor(readonly interactionId: string) {
    super(`Interaction ${interactionId} was already received.`);
    this.name = "InteractionReplayedError";
  }
}

export const REPLAYED_MESSAGE = "This interaction was already received, so nothing was done again.";

/**
 * The statement that records an interaction id; it changes no row when the
 * id is known. Sent in the batch of the interaction's first lookup
 * (guildMember), so it adds no round trip.
 */
export function receiptStatement(db: Database, interactionId: string, now = Date.now()) {
  return db
    .insert(interactionReceipts)
    .values({ id: interactionId, receivedAt: now })
    .onConflictDoNothing({ target: interactionReceipts.id });
}

/** Throws InteractionReplayedError unless the receipt statement recorded a new id. */
export function assertFirstSeen(interactionId: string, result: unknown): void {
  const changes = (result as { meta?: { changes?: unknown } } | undefined)?.meta?.changes;
  if (changes !== 1) throw new InteractionReplayedError(interactionId);
}

/** Records an interaction id on its own (for paths without a guild lookup). */
export async function rememberInteraction(db: Database, interactionId: string, now = Date.now()): Promise<void> {
  assertFirstSeen(interactionId, await receiptStatement(db, interactionId, now));
}
