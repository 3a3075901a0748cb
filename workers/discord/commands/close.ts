import {
  type CloseTarget,
  closeTargetName,
  type MemberCloseDone,
  type MemberCloseOutcome,
  readCloseTarget,
} from "../../../shared/execution/member-close";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { closePositions } from "../handoff";
import { ephemeral, type InteractionResponse, messageBody } from "../respond";

export type CloseOptions = OptionsFor<typeof DEFINITIONS.close>;

/** Orders listed per part of the answer; the rest are counted (all of them are in /orders). */
const LISTED = 10;

/**
 * /close symbol:<ticker>|all: the executor flattens the member's own positions in that symbol (or all of them) with
 * reduce-only market orders and cancels their working orders on it. Deferred and ephemeral (it may call the broker,
 * and it is personal); keyed by the interaction's id, so a repeat never closes twice.
 */
export async function handleClose(ctx: CommunityContext<CloseOptions>): Promise<InteractionResponse> {
  const reading = readCloseTarget(ctx.options.symbol, Date.now());
  if (!reading.ok) {
    return ephemeral(
      `⚠️ Nothing was closed: ${reading.message} Name a symbol you hold (see \`/portfolio\`), or \`all\` for every position.`,
    );
  }
  const { target } = reading;
  return ctx.defer(
    async () => {
      const answer = await closePositions(ctx.env, {
        communityId: ctx.community.id,
        userId: ctx.member.user.id,
        sourceId: ctx.interaction.id,
        target,
      });
      if (!answer.ok) {
        ctx.logger.error("close.handoff_failed", { reason: answer.reason });
        return messageBody(
          `⚠️ The close could not be confirmed: ${answer.reason}. Check \`/portfolio\` and \`/orders\` before trying again. (request id \`${ctx.requestId}\`)`,
          { ephemeral: true },
        );
      }
      return messageBody(closeAnswer(target, answer.outcome, ctx.requestId), { ephemeral: true });
    },
    { ephemeral: true },
  );
}

/** The executor's answer in words: what was sent and canceled, and which account (paper or live) it is. */
export function closeAnswer(target: CloseTarget, outcome: MemberCloseOutcome, requestId: string): string {
  if (outcome.status === "refused") return `⚠️ Nothing was closed: ${outcome.message} (request id \`${requestId}\`)`;
  if (outcome.status === "in_progress") {
    return "This close is already under way, so nothing was done again; you get a message when each order fills.";
  }
  const name = closeTargetName(target);
  const held = name === null ? "no positions" : `no ${name}`;
  if (outcome.status === "nothing_to_close") {
    return `You hold ${held} here (${outcome.mode}). Nothing was sent.`;
  }
  const closing = outcome.sent.length + outcome.alreadyClosing.length > 0;
  const what = name === null ? "all your positions" : `your ${name} position`;
  const head = closing
    ? `${outcome.notCanceled.length > 0 ? "⚠️" : "✅"} Closing ${what} (${outcome.mode}) at market, reduce-only:`
    : `${outcome.notCanceled.length > 0 ? "⚠️" : "✅"} You hold ${held} here (${outcome.mode}), so nothing was sold:`;
  return [
    head,
    ...listed("Sent", outcome.sent),
    ...listed("Already on its way", outcome.alreadyClosing),
    ...listed("Canceled", outcome.canceled),
    ...listed("Not canceled (it filled, or the broker still has it working; see `/orders`)", outcome.notCanceled),
    ...(outcome.sent.length > 0 ? ["You get a message when each order fills."] : []),
    ...(outcome.duplicate ? ["This close was already done: nothing was sent or canceled again."] : []),
  ].join("\n");
}

function listed(label: string, orders: MemberCloseDone["sent"]): string[] {
  const lines = orders.slice(0, LISTED).map((order) => `• ${label}: ${order}`);
  if (orders.length > LISTED) lines.push(`• …and ${orders.length - LISTED} more (see \`/orders\`)`);
  return lines;
}
