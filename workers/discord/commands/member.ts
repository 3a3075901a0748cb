import { hubEventSink } from "../../../platform/execution/event-sink";
import { type MemberSuspensionOutcome, suspendMember, unsuspendMember } from "../../../platform/members/suspension";
import { type CommunityContext, resolvedOf } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse, messageBody } from "../respond";

export type MemberOptions = OptionsFor<typeof DEFINITIONS.member>;

/**
 * /member suspend|unsuspend user:<user> reason:<text> (admins and moderators:
 * the definition's `member.suspend`, checked with every command in permissions.ts).
 * A suspension stops the member's copies at once (entries not yet sent are
 * canceled, later signals skip them); their open positions keep their stops.
 * The member is told by DM, and it is audited. Deferred: it reaches the
 * executor.
 */
export async function handleMember(ctx: CommunityContext<MemberOptions>): Promise<InteractionResponse> {
  const { options } = ctx;
  const target = options.user;
  if (resolvedOf(ctx.interaction).users?.[target]?.bot) return ephemeral("Bots do not trade here: nothing to suspend.");
  if (target === ctx.member.discordId) return ephemeral("You cannot suspend or unsuspend yourself.");
  const identity = await ctx.tenant.providers.memberByDiscordId(target);
  if (!identity || identity.role === null) {
    return ephemeral(`<@${target}> is not a member of this community (they never used the bot here): nothing changed.`);
  }
  const deps = {
    env: ctx.env,
    events: hubEventSink({ env: ctx.env, logger: ctx.logger, waitUntil: ctx.waitUntil }),
  };
  const actorId = ctx.member.user.id;
  const reason = options.reason?.trim() || null;
  if (options.subcommand === "suspend" && !reason) return ephemeral("A suspension needs a `reason:`; nothing changed.");
  return ctx.defer(
    async () => {
      const outcome =
        options.subcommand === "suspend"
          ? await suspendMember(deps, ctx.tenant, { userId: identity.userId, actorId, reason: reason ?? "" })
          : await unsuspendMember(deps, ctx.tenant, { userId: identity.userId, actorId, reason });
      ctx.logger.info("member.suspension_command", { target: identity.userId, ...outcome });
      return messageBody(answer(`<@${target}>`, outcome));
    },
    { ephemeral: true },
  );
}

function answer(who: string, outcome: MemberSuspensionOutcome): string {
  switch (outcome.outcome) {
    case "suspended": {
      const canceled =
        outcome.canceledOrders > 0 ? ` ${outcome.canceledOrders} order(s) not yet sent were canceled.` : "";
      return `⛔ ${who} is suspended: their copy trading stopped.${canceled} Their open positions and stops are untouched; they were told by DM.`;
    }
    case "unsuspended":
      return `✅ ${who} is no longer suspended: the signals they follow are copied again from the next one.`;
    case "already_suspended":
      return `${who} was already suspended: nothing changed (the first suspension's reason stands).`;
    case "not_suspended":
      return `${who} is not suspended: nothing changed.`;
    case "not_a_member":
      return `${who} is not a member of this community: nothing changed.`;
  }
}
