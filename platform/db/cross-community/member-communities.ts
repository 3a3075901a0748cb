import { eq } from "drizzle-orm";
import { memberships } from "../../../shared/db/schema";
import type { Database } from "../client";

/** The communities a user belongs to: revoking a session tells each one's RealtimeHub to close its sockets. */
export async function communitiesOfMember(db: Database, userId: string): Promise<string[]> {
  const rows = await db
    .select({ communityId: memberships.communityId })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .all();
  return rows.map((row) => row.communityId);
}
