import { env } from "cloudflare:workers";

/**
 * Trading hours do not depend on when a test runs: the communities the tests build let members trade outside
 * regular hours (an explicit community setting). Tests of the regular-hours default set the clock themselves.
 */
export const AROUND_THE_CLOCK = { regularHoursOnly: false } as const;

/** The community's risk defaults (`settings.riskDefaults`), as an admin would store them. */
export async function setCommunityRiskDefaults(communityId: string, riskDefaults: Record<string, unknown>) {
  await env.DB.prepare("update communities set settings = json_set(settings, '$.riskDefaults', json(?)) where id = ?")
    .bind(JSON.stringify(riskDefaults), communityId)
    .run();
}
