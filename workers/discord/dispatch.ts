import { database } from "../../platform/db/client";
import { guildMember } from "../../platform/db/cross-community/guild-member";
import { ensureMemberRecord } from "../../platform/db/member-record";
import type { Community } from "../../platform/db/tenant/community";
import { forCommunity, type TenantRepository } from "../../platform/db/tenant/for-community";
import type { MemberIdentity } from "../../platform/db/tenant/providers";
import { editOriginal } from "../../platform/notifications/notify-queue";
import type { AppConfig } from "../../shared/config";
import { verifyComponentId } from "../../shared/discord/components";
import { type DiscordSettings, discordSettingsOf } from "../../shared/discord/settings";
import type { Logger } from "../../shared/logging";
import { sameRoles } from "../../shared/membership/standing";
import { parseOccSymbol } from "../../shared/quotes/instrument";
import type { Action } from "../../shared/rbac/matrix";
import { cancelOwnOrder } from "./commands/cancel";
import { handleHeldButton, handleOrderButton } from "./commands/order-buttons";
import { CANCEL_MENU_KIND } from "./commands/orders";
import { PRIVACY_KIND, pressPrivacyButton } from "./commands/privacy";
import { handleRiskModalSubmit, RISK_EDIT_KIND, RISK_MODAL_ID, reopenRiskModal } from "./commands/risk";
import { handleTradeButton } from "./commands/trade";
import {
  afterTheAnswer,
  type BaseContext,
  type CommunityContext,
  describe,
  failureText,
  type GuildContext,
  type Member,
  makeDefer,
} from "./context";
import type { ChatCommandDefinition } from "./definitions";
import {
  type AutocompleteInteraction,
  type CommandInteraction,
  type ComponentInteraction,
  type Interaction,
  InteractionType,
  type MemberInteraction,
  type ModalSubmitInteraction,
  modalValues,
} from "./interaction-schema";
import { focusedOption, parseCommandOptions } from "./options";
import { authorize } from "./permissions";
import { findCommand } from "./registry";
import {
  assertFirstSeen,
  InteractionReplayedError,
  REPLAYED_MESSAGE,
  receiptStatement,
  rememberInteraction,
} from "./replay-guard";
import {
  type AutocompleteChoice,
  autocompleteResult,
  CHANNEL_MESSAGE,
  DEFERRED_REPLY,
  deferred,
  ephemeral,
  type InteractionResponse,
  messageBody,
  pong,
} from "./respond";
import { openDraft, SIGNAL_DRAFT_MODAL_ID, submitDraft } from "./signal-draft";

/**
 * Routes a verified, validated interaction: builds the handler's context
 * (community by guild, member and role, validated options, a logger with the
 * request id), checks the command's role in one place, and turns any failure
 * into an ephemeral answer carrying the request id. Discord never sees a 5xx.
 * Every interaction that can act is remembered by id first (replay-guard.ts):
 * nothing with an effect runs before its id is known to be new.
 */

export interface DispatchInput {
  env: Env;
  config: AppConfig;
  logger: Logger;
  requestId: string;
  waitUntil(promise: Promise<unknown>): void;
}

const NOT_SET_UP =
  "This server is not set up yet. An admin runs `/setup` first (optionally with `provider_role:` and `signal_channel:`); `/help` lists the commands.";
const GUILD_ONLY = "This app works inside a server, not in direct messages.";
const NO_SETTINGS: DiscordSettings = discordSettingsOf(null);

/** The dispatch input, plus whether the interaction's id must be remembered (everything that can act). */
interface Dispatch extends DispatchInput {
  remember: boolean;
}

export async function dispatchInteraction(
  dispatchInput: DispatchInput,
  interaction: Interaction,
): Promise<InteractionResponse> {
  if (interaction.type === InteractionType.PING) return pong();
  // Autocomplete only reads; everything else is remembered before it can act.
  const input: Dispatch = {
    ...dispatchInput,
    remember: interaction.type !== InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE,
  };
  try {
    switch (interaction.type) {
      case InteractionType.APPLICATION_COMMAND:
        return await runCommand(input, interaction);
      case InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
        return await autocomplete(input, interaction);
      case InteractionType.MESSAGE_COMPONENT:
        return await pressComponent(input, interaction);
      case InteractionType.MODAL_SUBMIT:
        return await submitModal(input, interaction);
    }
  } catch (error) {
    return failureResponse(input, interaction, error);
  }
}

/** A failure as the member reads it: a replay refused, or the failure with the request id. Never a 5xx. */
function failureResponse(input: DispatchInput, interaction: Interaction, error: unknown): InteractionResponse {
  if (error instanceof InteractionReplayedError) {
    input.logger.error("interaction.replayed", { alert: true, interactionId: error.interactionId });
    return ephemeral(REPLAYED_MESSAGE);
  }
  input.logger.error("interaction.failed", { interactionType: interaction.type, error: describe(error) });
  if (interaction.type === InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE) return autocompleteResult([]);
  return ephemeral(failureText(error, input.requestId));
}

type Built<C> = { ok: true; ctx: C } | { ok: false; response: InteractionResponse };

/** Everything a handler needs, or the refusal to send instead. Writes nothing unless the member passes the role check. */
async function buildContext(
  input: Dispatch,
  interaction: MemberInteraction,
  rule: { requires: Action; requiresSetup: boolean },
): Promise<Built<GuildContext<unknown>>> {
  const guildId = interaction.guild_id;
  const discordMember = interaction.member;
  if (!guildId || !discordMember) return { ok: false, response: ephemeral(GUILD_ONLY) };

  const db = database(input.env.DB);
  const receipt = input.remember ? receiptStatement(db, interaction.id) : undefined;
  const { community, identity, alongside } = await guildMember(db, guildId, discordMember.user.id, receipt);
  if (receipt) assertFirstSeen(interaction.id, alongside);
  if (!community && rule.requiresSetup) return { ok: false, response: ephemeral(NOT_SET_UP) };
  const tenant = community ? forCommunity(db, community.id) : null;
  const settings = community ? discordSettingsOf(community.settings) : NO_SETTINGS;
  const facts = {
    discordRoles: discordMember.roles,
    permissions: discordMember.permissions,
    role: identity?.role ?? null,
    namedProvider: identity?.namedProvider ?? false,
  };
  const allowed = authorize(rule.requires, facts, settings);
  if (!allowed.ok) return { ok: false, response: ephemeral(allowed.message) };

  const member = await ensureMember(db, tenant, discordMember.user, identity, facts);
  const logger = input.logger.child({ communityId: community?.id, userId: member.user.id, guildId });
  const target = { id: interaction.id, applicationId: interaction.application_id, token: interaction.token };
  const base: BaseContext = {
    env: input.env,
    config: input.config,
    db,
    logger,
    requestId: input.requestId,
    interaction,
    target,
    guildId,
    channelId: interaction.channel_id ?? interaction.channel?.id ?? null,
    member,
    settings,
    waitUntil: input.waitUntil,
    defer: makeDefer(
      { env: input.env, logger, requestId: input.requestId, target, waitUntil: input.waitUntil },
      () => community?.id ?? null,
    ),
  };
  return { ok: true, ctx: { ...base, community, tenant, options: {} } };
}

/** The member's user row and (in a registered community) a membership: every member trades on paper from their first command. */
async function ensureMember(
  db: ReturnType<typeof database>,
  tenant: TenantRepository | null,
  discordUser: { id: string; username: string },
  identity: MemberIdentity | null,
  facts: Omit<Member, "user" | "discordId" | "username" | "suspendedAt" | "suspendedReason">,
): Promise<Member> {
  const { user, role } = await ensureMemberRecord(db, tenant, discordUser, identity);
  // The roles the access role is checked against at execution time: refreshed whenever they differ.
  if (tenant && role !== null && !sameRoles(identity?.discordRoleIds ?? null, facts.discordRoles)) {
    await tenant.memberships.recordDiscordRoles(user.id, facts.discordRoles);
  }
  return {
    ...facts,
    role,
    user,
    discordId: discordUser.id,
    username: discordUser.username,
    suspendedAt: identity?.suspendedAt ?? null,
    suspendedReason: identity?.suspendedReason ?? null,
  };
}

function asCommunityContext<O>(ctx: GuildContext<unknown>, options: O): CommunityContext<O> {
  if (!ctx.community || !ctx.tenant) throw new Error("A community context needs a registered community.");
  return { ...ctx, community: ctx.community as Community, tenant: ctx.tenant, options };
}

async function runCommand(input: Dispatch, interaction: CommandInteraction): Promise<InteractionResponse> {
  const { data } = interaction;
  const entry = findCommand(data.name, data.type);
  if (!entry) {
    input.logger.warn("interaction.unknown_command", { command: data.name, commandType: data.type });
    return ephemeral(
      `Unknown command \`${data.name}\`; \`/help\` lists what this app can do. (request id \`${input.requestId}\`)`,
    );
  }
  let options: Record<string, unknown> = {};
  if (entry.definition.kind === "chat") {
    const parsed = parseCommandOptions(entry.definition, data.options);
    if (!parsed.ok) return ephemeral(`Nothing was done:\n${parsed.errors.map((e) => `• ${e}`).join("\n")}`);
    options = parsed.options;
  }
  const run = async (): Promise<InteractionResponse> => {
    const built = await buildContext(input, interaction, entry.definition);
    if (!built.ok) return built.response;
    built.ctx.logger.info("interaction.command", { command: entry.definition.name });
    return entry.handler({ ...built.ctx, options });
  };
  if (!entry.definition.acknowledgesFirst) return run();
  input.waitUntil(answerAcknowledged(input, interaction, run));
  return deferred({ ephemeral: true });
}

/**
 * The rest of a command acknowledged first: its reply edits the private deferral. A handler that deferred its own
 * work has already arranged that edit (the same deferral, the same message).
 */
async function answerAcknowledged(
  input: Dispatch,
  interaction: CommandInteraction,
  run: () => Promise<InteractionResponse>,
): Promise<void> {
  await afterTheAnswer();
  let response: InteractionResponse;
  try {
    response = await run();
  } catch (error) {
    response = failureResponse(input, interaction, error);
  }
  if (response.type === DEFERRED_REPLY) return;
  const target = { id: interaction.id, applicationId: interaction.application_id, token: interaction.token };
  const message = response.type === CHANNEL_MESSAGE ? response.data : messageBody(failureText(null, input.requestId));
  if (response.type !== CHANNEL_MESSAGE) {
    input.logger.error("interaction.unanswerable_after_acknowledging", { responseType: response.type });
  }
  try {
    await editOriginal(input.env, target, message, { communityId: null });
  } catch (error) {
    input.logger.error("interaction.notify_failed", { error: describe(error) });
  }
}

async function autocomplete(input: DispatchInput, interaction: AutocompleteInteraction): Promise<InteractionResponse> {
  const entry = findCommand(interaction.data.name, interaction.data.type);
  const focused = focusedOption(interaction.data.options);
  if (entry?.definition.kind !== "chat" || !focused) return autocompleteResult([]);
  const source = autocompleteSource(entry.definition, focused.name);
  const guildId = interaction.guild_id;
  if (!source || !guildId || !interaction.member) return autocompleteResult([]);
  const db = database(input.env.DB);
  const { community, identity: me } = await guildMember(db, guildId, interaction.member.user.id);
  if (!community) return autocompleteResult([]);
  const tenant = forCommunity(db, community.id);
  const search = focused.value.trim();
  let choices: AutocompleteChoice[];
  if (source === "held") {
    choices = heldChoices(me ? await tenant.execution.positionsOf(me.userId) : [], search);
  } else if (source === "symbols") {
    choices = (await tenant.signals.tradedSymbols(search.replace(/^\$/, ""))).map((symbol) => ({
      name: symbol,
      value: symbol,
    }));
  } else {
    const followed = me ? await tenant.follows.followedBy(me.userId) : [];
    const listed = await tenant.providers.list(search);
    const seen = new Set<string>();
    choices = [...followed.filter((f) => matches(f, search)), ...listed]
      .filter((p) => !seen.has(p.discordId) && seen.add(p.discordId))
      .map((p) => ({ name: p.username ?? p.discordId, value: p.discordId }));
  }
  return autocompleteResult(choices);
}

/**
 * `/close symbol:` choices: the tickers and pairs the member holds here (an option contract under its underlying,
 * which closes it too), then `all` when they hold anything.
 */
function heldChoices(positions: readonly { symbol: string; quantity: number }[], search: string): AutocompleteChoice[] {
  const prefix = search.replace(/^\$/, "").toUpperCase();
  const symbols = [
    ...new Set(
      positions
        .filter((position) => position.quantity !== 0)
        .map((position) => parseOccSymbol(position.symbol)?.underlying ?? position.symbol),
    ),
  ].sort();
  const choices = symbols
    .filter((symbol) => symbol.startsWith(prefix))
    .map((symbol) => ({ name: symbol, value: symbol }));
  const all = symbols.length > 0 && "ALL".startsWith(prefix) ? [{ name: "all (every position)", value: "all" }] : [];
  return [...choices.slice(0, 24), ...all];
}

function matches(provider: { username: string | null; discordId: string }, search: string): boolean {
  const needle = search.toLowerCase();
  return !needle || (provider.username ?? "").toLowerCase().startsWith(needle) || provider.discordId.startsWith(needle);
}

function autocompleteSource(definition: ChatCommandDefinition, optionName: string) {
  const options = [...(definition.options ?? []), ...(definition.subcommands ?? []).flatMap((s) => s.options ?? [])];
  const option = options.find((o) => o.name === optionName);
  return option?.type === "string" ? (option.autocomplete ?? null) : null;
}

async function pressComponent(input: Dispatch, interaction: ComponentInteraction): Promise<InteractionResponse> {
  const secret = input.config.SESSION_SECRET;
  if (!secret) return ephemeral(`Buttons are not configured (SESSION_SECRET). (request id \`${input.requestId}\`)`);
  const verified = await verifyComponentId(secret, interaction.data.custom_id);
  if (!verified.ok) {
    input.logger.warn("interaction.component_refused", { reason: verified.reason });
    return ephemeral(
      verified.reason === "expired"
        ? expiredButtonText(verified.kind)
        : "This button is not valid (altered or not issued by this app), so nothing was done.",
    );
  }
  if (verified.kind === "order" || verified.kind === "held") {
    const presser = interaction.member?.user ?? interaction.user;
    if (!presser) return ephemeral("This button could not tell who pressed it, so nothing was done.");
    await rememberInteraction(database(input.env.DB), interaction.id);
    return verified.kind === "order"
      ? handleOrderButton(input.env, presser, verified)
      : handleHeldButton(input.env, presser, verified);
  }
  if (verified.kind === PRIVACY_KIND) {
    // Not through buildContext: a press must not make a member of someone whose data it just deleted.
    await rememberInteraction(database(input.env.DB), interaction.id);
    return pressPrivacyButton(input, interaction, verified);
  }
  const requires = verified.kind === "draft" ? "signals.post" : "trading.own";
  const built = await buildContext(input, interaction, { requires, requiresSetup: true });
  if (!built.ok) return built.response;
  if (verified.kind === RISK_EDIT_KIND) return reopenRiskModal(interaction);
  if (verified.kind === CANCEL_MENU_KIND) {
    const orderId = interaction.data.values?.[0];
    if (!orderId) return ephemeral("No order was picked, so nothing was canceled.");
    return cancelOwnOrder(asCommunityContext(built.ctx, {}), orderId);
  }
  if (verified.kind === "trade") return handleTradeButton(asCommunityContext(built.ctx, {}), verified);
  if (verified.kind === "draft") return openDraft(interaction);
  return ephemeral("This button is not valid (unknown kind), so nothing was done.");
}

/**
 * What to do instead of an expired button: buttons in direct messages (an order to confirm, a held position) have no
 * command to run again, so they point at the server's commands that act on the same thing.
 */
export function expiredButtonText(kind: string): string {
  if (kind === "order") {
    return "This button has expired, so nothing was done: an order not confirmed in time is not sent. See it with `/orders` in the server, or place it yourself with `/trade`.";
  }
  if (kind === "held") {
    return "This button has expired, so nothing was done: you still hold the position. See it with `/portfolio` in the server and close it with `/trade`.";
  }
  return "This button has expired, so nothing was done. Run the command again.";
}

const MODALS = {
  [RISK_MODAL_ID]: { requires: "trading.own", submit: handleRiskModalSubmit },
  [SIGNAL_DRAFT_MODAL_ID]: { requires: "signals.post", submit: submitDraft },
} as const;

async function submitModal(input: Dispatch, interaction: ModalSubmitInteraction): Promise<InteractionResponse> {
  const form = Object.hasOwn(MODALS, interaction.data.custom_id)
    ? MODALS[interaction.data.custom_id as keyof typeof MODALS]
    : null;
  if (!form) {
    return ephemeral(`This form is not known to this app; nothing was saved. (request id \`${input.requestId}\`)`);
  }
  const built = await buildContext(input, interaction, { requires: form.requires, requiresSetup: true });
  if (!built.ok) return built.response;
  return form.submit(asCommunityContext(built.ctx, {}), modalValues(interaction));
}
