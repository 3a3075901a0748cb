import { deliverMemberExport } from "../../privacy/export-delivery";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";

export type PrivacyOptions = OptionsFor<typeof DEFINITIONS.privacy>;

/**
 * /privacy export (openspec/specs/privacy): a member's own data in this community as a JSON file, privately. Deferred:
 * it reads every table that holds them and the community's executor.
 */
export async function handlePrivacy(ctx: CommunityContext<PrivacyOptions>): Promise<InteractionResponse> {
  return ctx.defer(() => deliverMemberExport(ctx), { ephemeral: true });
}
