import { and, eq, isNull } from "drizzle-orm";
import { operatorActions } from "../../shared/db/schema";
import type { Database } from "./client";

const MAX_PATH = 512;
const MAX_ID = 128;
const MAX_REASON = 500;

/** The operator action log (append-only, see the schema): a call is recorded before it runs and answered after. */
export function operatorActionLog(db: Database) {
  return {
    async begin(input: {
      tokenFingerprint: string;
      method: string;
      path: string;
      communityId: string | null;
      requestId: string;
      at: number;
    }): Promise<string> {
      const id = crypto.randomUUID();
      await db.insert(operatorActions).values({
        id,
        at: input.at,
        tokenFingerprint: input.tokenFingerprint,
        method: input.method,
        path: input.path.slice(0, MAX_PATH),
        communityId: input.communityId?.slice(0, MAX_ID) ?? null,
        requestId: input.requestId.slice(0, MAX_ID),
        status: null,
      });
      return id;
    },

    /** The operator's stated reason, for routes that take one: set once, before the call answers. */
    async reason(id: string, reason: string): Promise<void> {
      await db
        .update(operatorActions)
        .set({ reason: reason.slice(0, MAX_REASON) })
        .where(and(eq(operatorActions.id, id), isNull(operatorActions.status)));
    },

    async answered(id: string, status: number): Promise<void> {
      await db.update(operatorActions).set({ status }).where(eq(operatorActions.id, id));
    },
  };
}
