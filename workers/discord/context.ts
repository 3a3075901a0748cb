import type { Database } from "../../platform/db/client";
import type { Community } from "../../platform/db/tenant/community";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { User } from "../../platform/db/users";
import { editOriginal, type InteractionTarget } from "../../platform/notifications/notify-queue";
import type { AppConfig } from "../../shared/config";
import type { MembershipRole } from "../../shared/db/schema";
import type { MemberFacts } from "../../shared/discord/permissions";
import type { DiscordSettings } from "../../shared/discord/settings";
import { AppError } from "../../shared/errors";
import type { Logger } from "../../shared/logging";
import type { DiscordMessage } from "../../shared/notifications/message";
import { sleep } from "../../shared/timeout";
import { InteractionType, type MemberInteraction, type Resolved } from "./interaction-schema";
import { deferred, type InteractionResponse, messageBody } from "./respond";

/** What every handler receives. Built once per interaction by dispatch.ts. */

export interface Member extends MemberFacts {
  /** The platform's user (upserted before a handler runs). */
  user: Pick<User, "id" | "discordId" | "username">;
  discordId: string;
  username: string;
  role: MembershipRole | null;
  /** When an admin suspended them here (null: not suspended). */
  suspendedAt: number | null;
  suspendedReason: string | null;
}

export interface BaseContext {
  env: Env;
  config: AppConfig;
  db: Database;
  /** Carries the request id (and the community id once known). */
  logger: Logger;
  requestId: string;
  interaction: MemberInteraction;
  target: InteractionTarget;
  guildId: string;
  channelId: string | null;
  member: Member;
  settings: DiscordSettings;
  waitUntil(promise: Promise<unknown>): void;
  /**
   * Answers type 5 now and finishes `work` after the response (ctx.waitUntil):
   * its message edits @original through NOTIFY_QUEUE. If `work` throws, the
   * edit says so, with the request id.
   */
  defer(work: () => Promise<DiscordMessage>, options: { ephemeral: boolean }): InteractionResponse;
}

/** Commands that need a registered community (everything but /setup and /help). */
export interface CommunityContext<O = Record<never, never>> extends BaseContext {
  community: Community;
  tenant: TenantRepository;
  options: O;
}

/** /setup and /help: the guild may not be registered yet. */
export interface GuildContext<O = Record<never, never>> extends BaseContext {
  community: Community | null;
  tenant: TenantRepository | null;
  options: O;
}

/** The text a member sees for a failure: an AppError's own message, otherwise a generic one. Always with the request id. */
export function failureText(error: unknown, requestId: string, what = "This command"): string {
  if (error instanceof AppError && error.status < 500) return `${error.message} (request id \`${requestId}\`)`;
  return `${what} could not be completed. Quote request id \`${requestId}\` if you report it.`;
}

/**
 * Work done after an interaction's answer starts this long after it. The Worker's JavaScript runs on one thread per
 * isolate, and work started at once (D1 reads, the executor) can keep the answer from being written out: locally, 40
 * D1 reads started at once held a 7 ms answer back to 60 ms; a 2 ms head start let it leave first.
 */
const ANSWER_HEAD_START_MS = 2;

/** Waits until the interaction's answer has had its head start: the first step of any work run after it. */
export const afterTheAnswer = (): Promise<void> => sleep(ANSWER_HEAD_START_MS);

export function makeDefer(
  base: Pick<BaseContext, "env" | "logger" | "requestId" | "target" | "waitUntil">,
  communityId: () => string | null,
): BaseContext["defer"] {
  return (work, options) => {
    base.waitUntil(
      (async () => {
        await afterTheAnswer();
        let message: DiscordMessage;
        try {
          message = await work();
        } catch (error) {
          base.logger.error("interaction.deferred_failed", { error: describe(error) });
          message = messageBody(failureText(error, base.requestId));
        }
        try {
          await editOriginal(base.env, base.target, message, { communityId: communityId() });
        } catch (error) {
          base.logger.error("interaction.notify_failed", { error: describe(error) });
        }
      })(),
    );
    return deferred(options);
  };
}

export function describe(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error;
}

/**
 * What the role rules need about a member named in a user option: the roles Discord resolved for them, their
 * permissions when Discord sent them, and what the community records (`identity`, null for someone unknown here).
 */
export function resolvedMemberFacts(
  interaction: MemberInteraction,
  discordId: string,
  identity: Pick<MemberFacts, "role" | "namedProvider"> | null,
): MemberFacts {
  const resolved = resolvedOf(interaction).members?.[discordId];
  return {
    discordRoles: resolved?.roles ?? [],
    permissions: resolved?.permissions ?? "0",
    role: identity?.role ?? null,
    namedProvider: identity?.namedProvider ?? false,
  };
}

/** Users, members, roles, channels and messages Discord resolved for a command's options. */
export function resolvedOf(interaction: MemberInteraction): Resolved {
  if (
    interaction.type === InteractionType.APPLICATION_COMMAND ||
    interaction.type === InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE
  ) {
    return interaction.data.resolved ?? {};
  }
  return {};
}
