/**
 * Every Discord command, defined once (docs/architecture.md §5): name, description,
 * options, the action of the role matrix it needs. Pure data with no bindings, so the registration
 * script (Node) and the Worker read the same definitions. The registry
 * (registry.ts) binds each one to its handler; the registration payload
 * (registration.ts) and the option validation (options.ts) are derived from it.
 */

import { BROKER_IDS } from "../../shared/brokers/ids";
import { UNPARSED_MESSAGE_HANDLING } from "../../shared/discord/settings";
import { MUTABLE_NOTICE_KINDS } from "../../shared/notifications/kinds";
import type { Action } from "../../shared/rbac/matrix";

/** symbols: the community's signalled symbols; held: what the member holds here, and `all`; providers. */
type AutocompleteSource = "symbols" | "held" | "providers";

interface OptionBase {
  name: string;
  description: string;
  required?: boolean;
}

export interface StringOption extends OptionBase {
  type: "string";
  choices?: readonly { name: string; value: string }[];
  minLength?: number;
  maxLength?: number;
  autocomplete?: AutocompleteSource;
}

interface NumericOption extends OptionBase {
  type: "integer" | "number";
  choices?: readonly { name: string; value: number }[];
  minValue?: number;
  maxValue?: number;
}

interface BooleanOption extends OptionBase {
  type: "boolean";
}

interface EntityOption extends OptionBase {
  type: "user" | "role" | "mentionable";
}

interface ChannelOption extends OptionBase {
  type: "channel";
  /** Discord channel types (0 text, 5 announcement, 15 forum). */
  channelTypes?: readonly number[];
}

export type OptionDefinition = StringOption | NumericOption | BooleanOption | EntityOption | ChannelOption;

interface SubcommandDefinition {
  name: string;
  description: string;
  options?: readonly OptionDefinition[];
}

interface CommandBase {
  name: string;
  /** The role matrix's action a member must be allowed (shared/rbac/matrix.ts), checked once by dispatch.ts. */
  requires: Action;
  /** false only for commands that make sense before /setup (/setup itself and /help). */
  requiresSetup: boolean;
  /**
   * A command whose feature is not built yet: what it will do (as /help says it, "coming soon: …") and what works
   * meanwhile. Its handler answers that, and nothing else in the product points to it.
   */
  comingSoon?: { what: string; meanwhile: string };
  /**
   * Answered at once with a private deferral (type 5, ephemeral), before any database read; the replay guard, the
   * role check and the command itself run after the answer, and their reply edits it. For commands whose every
   * answer is private and whose work runs after a deferral anyway (/signal), so the acknowledgement costs no more
   * than a PING.
   */
  acknowledgesFirst?: true;
}

export interface ChatCommandDefinition extends CommandBase {
  kind: "chat";
  description: string;
  options?: readonly OptionDefinition[];
  subcommands?: readonly SubcommandDefinition[];
}

/** A message context-menu command: it acts on the message it was run on. */
interface MessageCommandDefinition extends CommandBase {
  kind: "message";
}

export type CommandDefinition = ChatCommandDefinition | MessageCommandDefinition;

const SIGNAL_ACTIONS = ["buy", "sell", "short", "cover", "close"] as const;
const TRADE_ACTIONS = ["buy", "sell", "short", "cover"] as const;
const SIZING_MODES = ["fixed_quantity", "fixed_notional", "percent_of_equity", "risk_percent", "multiplier"] as const;
const SKIP_NOTICE_MODES = ["each", "digest"] as const;

const choices = <const V extends readonly string[]>(values: V): { name: V[number]; value: V[number] }[] =>
  values.map((value) => ({ name: value, value }));

const symbolOption = (required: boolean) =>
  ({
    name: "symbol",
    description: "Ticker or pair, e.g. AAPL, BTC/USDT",
    type: "string",
    required,
    maxLength: 32,
    autocomplete: "symbols",
  }) as const satisfies StringOption;

const webhookProviderOption = {
  name: "provider",
  description: "Admins: the provider whose webhook this is (default: yours)",
  type: "user",
} as const satisfies EntityOption;

const PRICE_LIMITS = { minValue: 0.000001, maxValue: 100_000_000 } as const;

export const DEFINITIONS = {
  signal: {
    kind: "chat",
    name: "signal",
    description: "Post a trade signal to your followers (free text, or the structured options)",
    requires: "signals.post",
    requiresSetup: true,
    acknowledgesFirst: true,
    options: [
      {
        name: "text",
        description: "The signal as you would write it, e.g. BUY AAPL 10 @ 190.50 SL 185 TP 195",
        type: "string",
        maxLength: 2000,
      },
      { name: "action", description: "What to do", type: "string", choices: choices(SIGNAL_ACTIONS) },
      symbolOption(false),
      { name: "quantity", description: "Shares, contracts or units", type: "number", ...PRICE_LIMITS },
      {
        name: "entry",
        description: "Entry price, or a zone like 250-252 (empty: market)",
        type: "string",
        maxLength: 40,
      },
      { name: "stop", description: "Stop-loss price", type: "number", ...PRICE_LIMITS },
      {
        name: "targets",
        description: "Take-profit prices, comma separated, e.g. 260, 270",
        type: "string",
        maxLength: 200,
      },
    ],
  },
  trade: {
    kind: "chat",
    name: "trade",
    description: "Place a manual order for your own account (you confirm it first)",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      {
        name: "action",
        description: "buy, sell, short or cover",
        type: "string",
        required: true,
        choices: choices(TRADE_ACTIONS),
      },
      symbolOption(true),
      { name: "quantity", description: "Shares, contracts or units", type: "number", required: true, ...PRICE_LIMITS },
      { name: "price", description: "Limit price (empty: market order)", type: "number", ...PRICE_LIMITS },
      { name: "stop", description: "Stop-loss price", type: "number", ...PRICE_LIMITS },
    ],
  },
  follow: {
    kind: "chat",
    name: "follow",
    description: "Copy a provider's signals into your account",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      { name: "provider", description: "The signal provider to follow", type: "user", required: true },
      {
        name: "sizing",
        description: "How each order is sized (default: 1% risk)",
        type: "string",
        choices: choices(SIZING_MODES),
      },
      {
        name: "amount",
        description: "The sizing amount (shares, $, % or multiplier)",
        type: "number",
        minValue: 0.0001,
        maxValue: 10_000_000,
      },
      {
        name: "mode",
        description: "auto: place orders at once; confirm: ask me first (default: auto on paper, confirm live)",
        type: "string",
        choices: choices(["auto", "confirm"] as const),
      },
      {
        name: "exits",
        description: "auto: close when the provider closes (default); confirm: ask me first in confirm mode too",
        type: "string",
        choices: choices(["auto", "confirm"] as const),
      },
    ],
  },
  unfollow: {
    kind: "chat",
    name: "unfollow",
    description: "Stop copying a provider",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      {
        name: "provider",
        description: "The provider to stop following",
        type: "string",
        required: true,
        maxLength: 64,
        autocomplete: "providers",
      },
    ],
  },
  risk: {
    kind: "chat",
    name: "risk",
    description: "View or set your risk limits",
    requires: "trading.own",
    requiresSetup: true,
    subcommands: [
      { name: "view", description: "Show the limits that apply to you" },
      { name: "set", description: "Edit your risk limits" },
      {
        name: "hours",
        description: "Trade during regular market hours only (default), or opt into extended hours",
        options: [
          {
            name: "session",
            description: "regular: 09:30–16:00 New York time only; extended: outside them too",
            type: "string",
            required: true,
            choices: choices(["regular", "extended"] as const),
          },
        ],
      },
      {
        name: "unlock",
        description: "Unlock an account your circuit breaker locked (admins: a member's)",
        options: [{ name: "member", description: "Admins: the member to unlock (default: you)", type: "user" }],
      },
      {
        name: "notify",
        description: "How you hear from us: skipped copies each time or daily; which notices come by DM",
        options: [
          {
            name: "skips",
            description: "each: a direct message each time (default); digest: one message a day",
            type: "string",
            choices: choices(SKIP_NOTICE_MODES),
          },
          {
            name: "kind",
            description: "A kind of notice whose DMs to turn on or off (all stay in your dashboard inbox)",
            type: "string",
            choices: choices(MUTABLE_NOTICE_KINDS),
          },
          {
            name: "dm",
            description: "on: notices of that kind come by DM (default); off: only in your dashboard inbox",
            type: "string",
            choices: choices(["on", "off"] as const),
          },
        ],
      },
    ],
  },
  broker: {
    kind: "chat",
    name: "broker",
    description: "Coming soon: connect, check or disconnect your brokerage account",
    requires: "trading.own",
    requiresSetup: true,
    comingSoon: {
      what: "connect your own brokerage account to trade live",
      meanwhile: "everyone trades on paper, with the same signals, risk limits and fills at market prices",
    },
    subcommands: [
      {
        name: "connect",
        description: "Connect a broker account",
        options: [
          {
            name: "broker",
            description: "Which broker",
            type: "string",
            required: true,
            choices: choices(BROKER_IDS),
          },
        ],
      },
      { name: "status", description: "Show your broker connections" },
      {
        name: "disconnect",
        description: "Disconnect a broker account",
        options: [{ name: "broker", description: "Which broker", type: "string", choices: choices(BROKER_IDS) }],
      },
    ],
  },
  portfolio: {
    kind: "chat",
    name: "portfolio",
    description: "Your positions and P&L",
    requires: "community.view",
    requiresSetup: true,
  },
  orders: {
    kind: "chat",
    name: "orders",
    description: "Your recent orders",
    requires: "community.view",
    requiresSetup: true,
    options: [
      {
        name: "status",
        description: "Only orders in this state",
        type: "string",
        choices: choices(["open", "filled", "canceled", "rejected", "all"] as const),
      },
    ],
  },
  cancel: {
    kind: "chat",
    name: "cancel",
    description: "Cancel one of your open orders",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      {
        name: "order",
        description: "The order reference, like #dd0db49e (from /orders)",
        type: "string",
        required: true,
        maxLength: 64,
      },
    ],
  },
  close: {
    kind: "chat",
    name: "close",
    description: "Close your position in a symbol, or all of them, at market (their open orders canceled)",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      {
        ...symbolOption(true),
        required: true,
        description: "The ticker or pair to close, e.g. AAPL, BTC/USD; or all",
        autocomplete: "held",
      },
    ],
  },
  paper: {
    kind: "chat",
    name: "paper",
    description: "Switch between paper and live trading",
    requires: "trading.own",
    requiresSetup: true,
    options: [
      {
        name: "mode",
        description: "paper or live",
        type: "string",
        required: true,
        choices: choices(["paper", "live"] as const),
      },
    ],
  },
  killswitch: {
    kind: "chat",
    name: "killswitch",
    description: "Halt or resume all trading in this community",
    requires: "killswitch.set",
    requiresSetup: true,
    options: [
      {
        name: "action",
        description: "halt or resume",
        type: "string",
        required: true,
        choices: choices(["halt", "resume"] as const),
      },
      { name: "reason", description: "Why (shown in the audit log)", type: "string", maxLength: 500 },
    ],
  },
  setup: {
    kind: "chat",
    name: "setup",
    description: "Register this server: provider roles, signal channels, access role, named providers, removals",
    requires: "providers.manage",
    requiresSetup: false,
    options: [
      { name: "provider_role", description: "Members with this role may post signals", type: "role" },
      {
        name: "signal_channel",
        description: "A channel where signals are posted",
        type: "channel",
        channelTypes: [0, 5],
      },
      { name: "provider", description: "A member who may post signals", type: "user" },
      { name: "remove_provider", description: "A member who may no longer post signals", type: "user" },
      { name: "remove_provider_role", description: "A role that no longer makes its members providers", type: "role" },
      {
        name: "remove_signal_channel",
        description: "A channel that is no longer a signal channel",
        type: "channel",
        channelTypes: [0, 5],
      },
      {
        name: "unparsed_messages",
        description: "A provider's message in a signal channel that is not a signal: ignore (default), or reply ⚠️",
        type: "string",
        choices: choices(UNPARSED_MESSAGE_HANDLING),
      },
      {
        name: "access_role",
        description: "Paid access: only members with this role may follow and have trades copied",
        type: "role",
      },
      {
        name: "remove_access_role",
        description: "true: every member may follow again (no access role)",
        type: "boolean",
      },
    ],
  },
  member: {
    kind: "chat",
    name: "member",
    description: "Suspend or unsuspend a member's copy trading here (their positions are untouched)",
    requires: "member.suspend",
    requiresSetup: true,
    subcommands: [
      {
        name: "suspend",
        description: "Stop a member's copy trading at once; they are told, and it is audited",
        options: [
          { name: "user", description: "The member to suspend", type: "user", required: true },
          {
            name: "reason",
            description: "Why (shown to the member and in the audit log)",
            type: "string",
            required: true,
            maxLength: 500,
          },
        ],
      },
      {
        name: "unsuspend",
        description: "Let a suspended member copy trades again",
        options: [
          { name: "user", description: "The member to unsuspend", type: "user", required: true },
          {
            name: "reason",
            description: "Why (shown to the member and in the audit log)",
            type: "string",
            maxLength: 500,
          },
        ],
      },
    ],
  },
  subscription: {
    kind: "chat",
    name: "subscription",
    description: "Billing status, checkout and portal links",
    requires: "community.view",
    requiresSetup: true,
  },
  dashboard: {
    kind: "chat",
    name: "dashboard",
    description: "A single-use sign-in link to your web dashboard",
    requires: "community.view",
    requiresSetup: true,
  },
  webhook: {
    kind: "chat",
    name: "webhook",
    description: "Your signal webhook for TradingView and other alerts: create, rotate or revoke",
    requires: "signals.post",
    requiresSetup: true,
    subcommands: [
      {
        name: "create",
        description: "A webhook URL and signing secret that post signals as you",
        options: [webhookProviderOption],
      },
      {
        name: "rotate",
        description: "A new URL and signing secret; the old ones stop working at once",
        options: [webhookProviderOption],
      },
      { name: "revoke", description: "Turn the webhook off for good", options: [webhookProviderOption] },
    ],
  },
  privacy: {
    kind: "chat",
    name: "privacy",
    description: "Your own data in this community",
    requires: "privacy.own",
    requiresSetup: true,
    subcommands: [
      { name: "export", description: "A JSON file of everything this bot holds about you here (only you see it)" },
      { name: "delete", description: "Delete your data in this community (you confirm first)" },
    ],
  },
  help: {
    kind: "chat",
    name: "help",
    description: "What this bot can do",
    requires: "community.view",
    requiresSetup: false,
  },
  executeAsSignal: {
    kind: "message",
    name: "Execute as signal",
    requires: "signals.post",
    requiresSetup: true,
  },
} as const satisfies Record<string, CommandDefinition>;

export type CommandKey = keyof typeof DEFINITIONS;

export const ALL_DEFINITIONS: readonly CommandDefinition[] = Object.values(DEFINITIONS);

// ---- option types, derived from the definitions ----

type ValueOf<O> = O extends { type: "string"; choices: readonly { value: infer V }[] }
  ? V
  : O extends { type: "string" }
    ? string
    : O extends { type: "integer" | "number" }
      ? number
      : O extends { type: "boolean" }
        ? boolean
        : string; // user, role, mentionable, channel: a snowflake

type OptionsOf<Os> = Os extends readonly OptionDefinition[]
  ? { [O in Os[number] as O["name"]]: O extends { required: true } ? ValueOf<O> : ValueOf<O> | undefined }
  : Record<never, never>;

type SubcommandOptions<S> = S extends SubcommandDefinition
  ? { subcommand: S["name"] } & OptionsOf<S extends { options: infer Os } ? Os : undefined>
  : never;

/** The validated options a handler receives for a definition. */
export type OptionsFor<D> = D extends { subcommands: readonly (infer S)[] }
  ? SubcommandOptions<S>
  : D extends { options: infer Os }
    ? OptionsOf<Os>
    : Record<never, never>;
