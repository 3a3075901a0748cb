import { and, eq, isNull } from "drizzle-orm";
import { communities, signalWebhooks } from "../../../shared/db/schema";
import type { Database } from "../client";

/**
 * A signal webhook request carries only its key: the active webhook with that key's hash, and the community's
 * settings it is judged by, in one round trip. A revoked or unknown key finds nothing.
 */
export interface WebhookByKey {
  id: string;
  communityId: string;
  providerUserId: string;
  keyHash: string;
  sealedSecret: string;
  communitySettings: Record<string, unknown>;
}

export async function activeWebhookByKeyHash(db: Database, keyHash: string): Promise<WebhookByKey | null> {
  return (
    (await db
      .select({
        id: signalWebhooks.id,
        communityId: signalWebhooks.communityId,
        providerUserId: signalWebhooks.providerUserId,
        keyHash: signalWebhooks.keyHash,
        sealedSecret: signalWebhooks.sealedSecret,
        communitySettings: communities.settings,
      })
      .from(signalWebhooks)
      .innerJoin(communities, eq(communities.id, signalWebhooks.communityId))
      .where(and(eq(signalWebhooks.keyHash, keyHash), isNull(signalWebhooks.revokedAt)))
      .get()) ?? null
  );
}
