import type { Database } from "../client";
import { auditRepository } from "./audit";
import { brokerConnectionRepository } from "./broker-connections";
import { communityRepository } from "./community";
import { executionRepository } from "./execution";
import { flagRepository } from "./flags";
import { followRepository } from "./follows";
import { memberDataRepository } from "./member-data";
import { membershipRepository } from "./memberships";
import { providerRepository } from "./providers";
import { purgeRepository } from "./purge";
import { riskProfileRepository } from "./risk-profiles";
import { createTenantScope } from "./scope";
import { signalWebhookRepository } from "./signal-webhooks";
import { signalRepository } from "./signals";
import { tradeRepository } from "./trades";

/**
 * The only way handlers reach tenant tables: every repository in this folder
 * is scoped to one community id (the guard test in
 * tests/integration/tenancy.test.ts keeps it that way). Audited writes go into
 * the same D1 batch as their audit row.
 */

export type TenantRepository = ReturnType<typeof forCommunity>;

export function forCommunity(db: Database, communityId: string) {
  const scope = createTenantScope(db, communityId);
  return {
    communityId,
    community: communityRepository(scope),
    memberships: membershipRepository(scope),
    audit: auditRepository(scope),
    flags: flagRepository(scope),
    execution: executionRepository(scope),
    signals: signalRepository(scope),
    signalWebhooks: signalWebhookRepository(scope),
    providers: providerRepository(scope),
    follows: followRepository(scope),
    riskProfiles: riskProfileRepository(scope),
    brokerConnections: brokerConnectionRepository(scope),
    purge: purgeRepository(scope),
    trades: tradeRepository(scope),
    memberData: memberDataRepository(scope),
  };
}
