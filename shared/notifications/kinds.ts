/**
 * The kinds of notice the platform sends a member, in one table: what each is called, which DM events it covers
 * (by the event's prefix, as `directMessage` callers name them), and whether a member may stop its DMs. Every notice
 * is stored and shown in the dashboard inbox whatever the member chose; security and membership notices always go
 * by DM too. Pure: the notifications consumer, the API, `/risk notify` and the inbox page read it.
 */

export const NOTICE_KINDS = [
  "security",
  "membership",
  "orders",
  "skipped_copies",
  "risk",
  "signals",
  "billing",
  "other",
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface NoticeKindInfo {
  /** The title an inbox shows for a notice of this kind. */
  title: string;
  /** What the kind covers, in the words `/risk notify` and the API show. */
  description: string;
  /** False: always sent by DM (security and membership notices), whatever the member's preference says. */
  mutable: boolean;
  /** Event prefixes (`<prefix>:...`) of the direct messages of this kind. */
  prefixes: readonly string[];
}

export const NOTICE_KIND_TABLE: Readonly<Record<NoticeKind, NoticeKindInfo>> = {
  security: {
    title: "Security",
    description: "sign-ins from a new device or country, a broker connection removed by someone else",
    mutable: false,
    prefixes: ["sign-in", "broker_disconnected"],
  },
  membership: {
    title: "Membership",
    description: "suspensions, a lost access or provider role, leaving a server, a deleted community",
    mutable: false,
    prefixes: [
      "suspended",
      "unsuspended",
      "community_suspended",
      "community_deleted",
      "community_unsuspended",
      "access_role_lost",
      "provider_role_lost",
      "departed",
    ],
  },
  orders: {
    title: "Order update",
    description: "orders placed, filled, rejected or waiting for your confirmation",
    mutable: true,
    prefixes: ["order"],
  },
  skipped_copies: {
    title: "Signal not copied",
    description: "signals you follow that were not copied, and the daily digest of them",
    mutable: true,
    prefixes: ["skip", "skip-digest"],
  },
  risk: {
    title: "Risk",
    description: "daily loss limits, circuit breakers and account locks",
    mutable: true,
    prefixes: ["pause", "lock", "unlock"],
  },
  signals: {
    title: "Your signals",
    description: "what happened to the signals you post (edits, outcomes, trade management)",
    mutable: true,
    prefixes: ["edit", "signal-outcome", "manage"],
  },
  billing: {
    title: "Billing",
    description: "payments, refunds, plan changes and plan limits",
    mutable: true,
    prefixes: ["billing", "plan-limit"],
  },
  other: {
    title: "Notice",
    description: "anything else",
    mutable: true,
    prefixes: [],
  },
};

/** The kinds a member may stop DMs of (`/risk notify kind:`, the preferences API). */
export const MUTABLE_NOTICE_KINDS = NOTICE_KINDS.filter((kind) => NOTICE_KIND_TABLE[kind].mutable);

const KIND_OF_PREFIX: ReadonlyMap<string, NoticeKind> = new Map(
  NOTICE_KINDS.flatMap((kind) => NOTICE_KIND_TABLE[kind].prefixes.map((prefix) => [prefix, kind] as const)),
);

/** The kind of a direct message, from its event (`order:<id>:fill:2` is `orders`); an unknown prefix is `other`. */
export function noticeKindOf(event: string): NoticeKind {
  const prefix = event.split(":", 1)[0] ?? "";
  return KIND_OF_PREFIX.get(prefix) ?? "other";
}

/** Whether a notice of this kind goes by DM, given the member's stored choice (null: never chosen, DM on). */
export function sendsDirectMessage(kind: NoticeKind, storedChoice: boolean | null | undefined): boolean {
  return !NOTICE_KIND_TABLE[kind].mutable || storedChoice !== false;
}

/** The delivery states of a stored notice's DM: `muted` when the member turned its kind's DMs off. */
export const NOTICE_DELIVERY_STATUSES = ["pending", "sent", "failed", "muted"] as const;
export type NoticeDeliveryStatus = (typeof NOTICE_DELIVERY_STATUSES)[number];

/** How long the inbox keeps a notice (the daily housekeeping prunes older ones). */
export const NOTICE_RETENTION_DAYS = 90;
