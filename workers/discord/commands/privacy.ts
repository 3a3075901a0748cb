import { database } from "../../../platform/db/client";
import { guildMember } from "../../../platform/db/cross-community/guild-member";
import { forCommunity } from "../../../platform/db/tenant/for-community";
import { editOriginal } from "../../../platform/notifications/notify-queue";
import {
  BUTTON_LIFETIME_SECONDS,
  ButtonStyle,
  buttonRow,
  type ComponentRef,
  signComponentId,
} from "../../../shared/discord/components";
import type { DiscordMessage } from "../../../shared/notifications/message";
import { deliverMemberExport } from "../../privacy/export-delivery";
import {
  deletedText,
  type ErasureDeps,
  type ErasureOutcome,
  eraseMember,
  erasureBlockers,
  isBlocked,
  refusalText,
} from "../../privacy/member-erasure";
import { afterTheAnswer, type CommunityContext, describe, failureText } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { DispatchInput } from "../dispatch";
import type { ComponentInteraction } from "../interaction-schema";
import { deferredUpdate, ephemeral, type InteractionResponse, messageBody, updateMessage } from "../respond";

export type PrivacyOptions = OptionsFor<typeof DEFINITIONS.privacy>;

/** The signed buttons of a deletion's confirmation: `privacy:delete|keep:<user id>`. */
export const PRIVACY_KIND = "privacy";

/**
 * /privacy export|delete (openspec/specs/privacy): a member's own data in this community. Both are deferred and
 * private: export reads every table that holds them and the community's executor; delete checks what would keep it
 * from happening, then asks for a confirmation with signed buttons only they can press.
 */
export async function handlePrivacy(ctx: CommunityContext<PrivacyOptions>): Promise<InteractionResponse> {
  if (ctx.options.subcommand === "export") return ctx.defer(() => deliverMemberExport(ctx), { ephemeral: true });
  return ctx.defer(() => askToConfirmDeletion(ctx), { ephemeral: true });
}

async function askToConfirmDeletion(ctx: CommunityContext<PrivacyOptions>): Promise<DiscordMessage> {
  const secret = ctx.config.SESSION_SECRET;
  if (!secret) return messageBody("Deleting needs buttons, which are not configured here (SESSION_SECRET).");
  const deps = erasureDepsOf(ctx.env, ctx.community, ctx.member.user.id, ctx.member.role);
  const blockers = await erasureBlockers(deps);
  if (isBlocked(blockers)) return messageBody(refusalText(blockers, ctx.community.id));
  const ref = (action: string): ComponentRef => ({ kind: PRIVACY_KIND, action, id: ctx.member.user.id });
  const [deleteId, keepId] = await Promise.all([
    signComponentId(secret, ref("delete")),
    signComponentId(secret, ref("keep")),
  ]);
  return {
    ...messageBody(
      [
        "**Delete your data in this community?** This cannot be undone.",
        "Deleted: your membership and role, follows (yours and your followers'), risk settings, broker connections, " +
          "inbox notices from here and your paper account; your signal webhook is revoked and copying stops at once.",
        "Kept: your orders, fills and positions (financial records), the signals you posted, and the audit log.",
        "The buttons expire in 5 minutes.",
      ].join("\n"),
    ),
    components: [
      buttonRow([
        { customId: deleteId, label: "Delete my data", style: ButtonStyle.DANGER },
        { customId: keepId, label: "Cancel", style: ButtonStyle.SECONDARY },
      ]),
    ],
  };
}

function erasureDepsOf(
  env: Env,
  community: ErasureDeps["community"],
  userId: string,
  role: ErasureDeps["role"],
): ErasureDeps {
  const db = database(env.DB);
  return { env, db, tenant: forCommunity(db, community.id), community, userId, role };
}

/**
 * A verified press of the confirmation's buttons. Only the member it was issued to may press them (the id they
 * carry); [Cancel] deletes nothing, [Delete my data] answers at once and edits the confirmation with the outcome.
 */
export async function pressPrivacyButton(
  input: DispatchInput,
  interaction: ComponentInteraction,
  ref: ComponentRef & { expiresAt: number },
): Promise<InteractionResponse> {
  const presser = interaction.member?.user;
  if (!interaction.guild_id || !presser) return ephemeral("This button works inside the server, so nothing was done.");
  const { community, identity } = await guildMember(database(input.env.DB), interaction.guild_id, presser.id);
  if (!community) return ephemeral("This server is not set up with this app any more, so nothing was done.");
  if (identity?.userId !== ref.id) {
    return ephemeral("Only the member who asked to delete their data can answer this, so nothing was done.");
  }
  if (ref.action === "keep") return updateMessage("Canceled: nothing was deleted.");
  if (ref.action !== "delete") return ephemeral("This button is not valid, so nothing was done.");
  const deps = erasureDepsOf(input.env, community, identity.userId, identity.role);
  const issuedAt = ref.expiresAt - BUTTON_LIFETIME_SECONDS * 1000;
  const target = { id: interaction.id, applicationId: interaction.application_id, token: interaction.token };
  const logger = input.logger.child({ communityId: community.id, userId: identity.userId });
  input.waitUntil(
    (async () => {
      await afterTheAnswer();
      let text: string;
      try {
        const outcome = await eraseMember(deps, issuedAt);
        logger.info("privacy.delete_answered", { outcome: outcome.kind });
        text = outcomeText(outcome, community.id);
      } catch (error) {
        logger.error("privacy.delete_failed", { error: describe(error) });
        text = failureText(error, input.requestId, "Deleting your data");
      }
      await editOriginal(input.env, target, { ...messageBody(text), components: [] }, { communityId: community.id });
    })().catch((error) => logger.error("privacy.delete_followup_failed", { error: String(error) })),
  );
  return deferredUpdate();
}

function outcomeText(outcome: ErasureOutcome, communityId: string): string {
  switch (outcome.kind) {
    case "refused":
      return refusalText(outcome.blockers, communityId);
    case "already_deleted":
      return "Your data in this community was already deleted: nothing more was done.";
    case "deleted":
      return deletedText(outcome);
  }
}
