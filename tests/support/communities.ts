import { env } from "cloudflare:workers";
import { database } from "../../platform/db/client";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";
import type { Community } from "../../platform/db/tenant/community";
import { forCommunity, type TenantRepository } from "../../platform/db/tenant/for-community";
import { snowflake } from "./discord";

/** A fresh community, created as the app creates one (its audit chain starts with `community.created`). */
export interface FreshCommunity {
  community: Community;
  communityId: string;
  tenant: TenantRepository;
}

export async function newCommunity(
  options: { name?: string; ownerUserId?: string; guildId?: string } = {},
): Promise<FreshCommunity> {
  const db = database(env.DB);
  const { community } = await communityDirectory(db).create({
    guildId: options.guildId ?? snowflake(),
    name: options.name ?? "Test community",
    ownerUserId: options.ownerUserId,
  });
  return { community, communityId: community.id, tenant: forCommunity(db, community.id) };
}

/** A fresh community whose audit chain holds `community.created` and then `extra` appended entries. */
export async function communityWithEntries(
  extra: number,
  options: Parameters<typeof newCommunity>[0] = {},
): Promise<FreshCommunity> {
  const fresh = await newCommunity({ name: "Audit test", ...options });
  for (let i = 0; i < extra; i++) {
    await fresh.tenant.audit.append({ event: "auth.mfa_verified", actorId: `u-${i}`, data: { attempt: i } });
  }
  return fresh;
}
