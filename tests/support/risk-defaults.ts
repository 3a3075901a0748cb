import { env } from "cloudflare:workers";

/**
 * Trading hours do not depend on when a test runs: the communities the tests build let members trade outside
 * regular hours (an explicit community setting). Tests of the regular-hours default set the clock themselves.
 */
export const AROUND_THE_CLOCK = { regularHoursOnly: false } as const;

/** A moment the US equity market is closed (Saturday 5 December 2026, 10:00 New York), for tests of regular hours. */
export const SATURDAY_MORNING = Date.UTC(2026, 11, 5, 15, 0, 0);

/** The community's risk defaults (`settings.riskDefaults`), as an admin would store them. */
export async function setCommunityRiskDefaults(communityId: string, riskDefaults: Record<string, unknown>) {
  await env.DB.prepare("update communities set settings = json_set(settings, '$.riskDefaults', json(?)) where id = ?")
    .bind(JSON.stringify(riskDefaults), communityId)
    .run();
}
