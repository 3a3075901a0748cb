import { handleBroker } from "./commands/broker";
import { handleCancel } from "./commands/cancel";
import { handleClose } from "./commands/close";
import { handleDashboard } from "./commands/dashboard";
import { handleExecuteAsSignal } from "./commands/execute-as-signal";
import { handleFollow } from "./commands/follow";
import { handleHelp } from "./commands/help";
import { handleKillswitch } from "./commands/killswitch";
import { handleMember } from "./commands/member";
import { handleOrders } from "./commands/orders";
import { handlePaper } from "./commands/paper";
import { handlePortfolio } from "./commands/portfolio";
import { handlePrivacy } from "./commands/privacy";
import { handleRisk } from "./commands/risk";
import { handleSetup } from "./commands/setup";
import { handleSignal } from "./commands/signal";
import { handleSubscription } from "./commands/subscription";
import { handleTrade } from "./commands/trade";
import { handleUnfollow } from "./commands/unfollow";
import { handleWebhook } from "./commands/webhook";
import type { CommunityContext, GuildContext } from "./context";
import { type CommandDefinition, type CommandKey, DEFINITIONS, type OptionsFor } from "./definitions";
import type { InteractionResponse } from "./respond";

/**
 * The command registry: each definition (definitions.ts) bound to its handler.
 * The mapped type makes a definition without a handler, or a handler whose
 * options do not match its definition, a compile error.
 */

type HandlerFor<D> = D extends { requiresSetup: false }
  ? (ctx: GuildContext<OptionsFor<D>>) => Promise<InteractionResponse>
  : (ctx: CommunityContext<OptionsFor<D>>) => Promise<InteractionResponse>;

export const HANDLERS: { [K in CommandKey]: HandlerFor<(typeof DEFINITIONS)[K]> } = {
  signal: handleSignal,
  trade: handleTrade,
  follow: handleFollow,
  unfollow: handleUnfollow,
  risk: handleRisk,
  broker: handleBroker,
  portfolio: handlePortfolio,
  orders: handleOrders,
  cancel: handleCancel,
  close: handleClose,
  paper: handlePaper,
  killswitch: handleKillswitch,
  setup: handleSetup,
  member: handleMember,
  subscription: handleSubscription,
  dashboard: handleDashboard,
  webhook: handleWebhook,
  privacy: handlePrivacy,
  help: handleHelp,
  executeAsSignal: handleExecuteAsSignal,
};

export interface RegistryEntry {
  key: CommandKey;
  definition: CommandDefinition;
  /** Called with the context dispatch built for this definition (options validated against it). */
  handler: (ctx: GuildContext<Record<string, unknown>>) => Promise<InteractionResponse>;
}

const BY_NAME = new Map<string, RegistryEntry>(
  (Object.keys(DEFINITIONS) as CommandKey[]).map((key) => {
    const definition: CommandDefinition = DEFINITIONS[key];
    const entry = { key, definition, handler: HANDLERS[key] as unknown as RegistryEntry["handler"] };
    return [`${definition.kind}:${definition.name}`, entry];
  }),
);

/** The command Discord invoked: a chat command (type 1) or a message command (type 3) by name. */
export function findCommand(name: string, commandType: number): RegistryEntry | null {
  const kind = commandType === 1 ? "chat" : commandType === 3 ? "message" : null;
  return kind ? (BY_NAME.get(`${kind}:${name}`) ?? null) : null;
}
