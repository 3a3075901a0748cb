import { eq } from "drizzle-orm";
import { memberships } from "../../../shared/db/schema";
import type { Database } from "../client";

/** The communities a user belongs to (sign-out tells each one's RealtimeHub; billing finds a trader's communities). */
export async function communitiesOfMember(db: Database, userId: string): Promise<string[]> {
  const rows = await db
    .select({ communityId: memberships.communityId })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .all();
  return rows.map((row) => row.communityId);
}
