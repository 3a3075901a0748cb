import { and, desc, eq } from "drizzle-orm";
import type { SignInPlace } from "../../shared/auth/sign-in-alert";
import { authEvents } from "../../shared/db/schema";
import type { Database } from "./client";

export type AuthEventRow = typeof authEvents.$inferSelect;
export type AuthEventName =
  | "auth.signed_in"
  | "auth.sign_in_failed"
  | "auth.signed_out_everywhere"
  | "auth.csrf_rejected"
  | "mfa.enrolled"
  | "mfa.verified"
  | "mfa.failed"
  | "mfa.backup_code_used"
  | "mfa.disabled";

/** How many earlier sign-ins a new one is compared with. */
const PLACES_REMEMBERED = 200;

/** The platform-wide record of sign-ins, failed sign-ins, sign-outs everywhere and MFA changes (global, not tenant data). */
export function authEventStore(db: Database) {
  return {
    async record(
      input: Omit<AuthEventRow, "id" | "at" | "event"> & { event: AuthEventName; at?: number },
    ): Promise<void> {
      await db
        .insert(authEvents)
        .values({
          ...input,
          id: crypto.randomUUID(),
          at: input.at ?? Date.now(),
          userAgent: input.userAgent?.slice(0, 512) ?? null,
        })
        .run();
    },

    /** Where the user's recent successful sign-ins came from, newest first. */
    async signInPlaces(userId: string): Promise<SignInPlace[]> {
      const rows = await db
        .select({ device: authEvents.device, country: authEvents.country })
        .from(authEvents)
        .where(and(eq(authEvents.userId, userId), eq(authEvents.event, "auth.signed_in")))
        .orderBy(desc(authEvents.at))
        .limit(PLACES_REMEMBERED)
        .all();
      return rows.map((row) => ({ device: row.device ?? "", country: row.country }));
    },

    list(userId: string): Promise<AuthEventRow[]> {
      return db.select().from(authEvents).where(eq(authEvents.userId, userId)).orderBy(desc(authEvents.at)).all();
    },
  };
}
