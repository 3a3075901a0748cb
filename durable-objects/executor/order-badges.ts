import { database } from "../../platform/db/client";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { userById } from "../../platform/db/users";
import type { MemberNotice } from "../../platform/notifications/notify-member";
import { type AccountMode, accountModeOf, badged, orderBadge } from "../../shared/discord/badge";
import type { StoredOrderIntent } from "../../shared/execution/order-intent";
import type { DiscordMessage } from "../../shared/notifications/message";

/** What an order message is about, as far as its badge needs: whose it is, which signal, which account. */
export interface BadgeSubject {
  userId: string;
  /** The signal it copies (null: the member's own order); "none" for a message about several (a digest). */
  signalId: string | null | "none";
  mode: AccountMode;
}

/** An order (stored or planned) as the subject of its messages. */
export function subjectOf(order: {
  userId: string;
  signalId: string | null;
  broker: string;
  intent: Pick<StoredOrderIntent, "accountMode">;
}): BadgeSubject {
  return { userId: order.userId, signalId: order.signalId, mode: accountModeOf(order) };
}

/** Names kept in memory per object: a 10,000-follower fan-out reads its community and provider once. */
const MAX_CACHED = 1_000;

/**
 * Every direct message about a member's order, through the executor's `notify` (the one DM sender, also on the
 * member's realtime notifications channel), with
 * the one badge on top ("🧪 PAPER · <server> · from @pete"): the server's name,
 * the provider of the signal it copies (or "your own trade"), paper or live.
 */
export class OrderBadges {
  private readonly communities = new Map<string, string>();
  private readonly providers = new Map<string, string | null>();

  constructor(
    private readonly parts: {
      env(): Env;
      tenant(communityId: string): TenantRepository;
      notify(notice: MemberNotice): Promise<void>;
    },
  ) {}

  async badgeFor(communityId: string, subject: BadgeSubject): Promise<string> {
    const community = await this.communityName(communityId);
    if (subject.signalId === "none") return orderBadge({ mode: subject.mode, community, from: null });
    const providerId = await this.providerOf(communityId, subject.signalId);
    const from =
      providerId === null || providerId === subject.userId ? "own" : { provider: await this.username(providerId) };
    return orderBadge({ mode: subject.mode, community, from });
  }

  /** A DM about an order: the badge, then what happened (text, or a message whose content gets the badge). */
  async tell(
    communityId: string,
    subject: BadgeSubject,
    event: string,
    message: string | DiscordMessage,
  ): Promise<void> {
    const badge = await this.badgeFor(communityId, subject);
    await this.parts.notify({
      userId: subject.userId,
      communityId,
      event,
      message:
        typeof message === "string"
          ? badged(badge, message)
          : { ...message, content: badged(badge, message.content ?? "").slice(0, 2000) },
    });
  }

  private async communityName(communityId: string): Promise<string> {
    const known = this.communities.get(communityId);
    if (known) return known;
    const row = await this.parts.tenant(communityId).community.get();
    const name = row?.name ?? "this server";
    remember(this.communities, communityId, name);
    return name;
  }

  /** The signal's provider (user id), or null for an order without a signal (a flatten, a manual exit). */
  private async providerOf(communityId: string, signalId: string | null): Promise<string | null> {
    if (!signalId) return null;
    if (this.providers.has(signalId)) return this.providers.get(signalId) ?? null;
    const signal = await this.parts.tenant(communityId).signals.get(signalId);
    const provider = signal?.providerUserId ?? null;
    remember(this.providers, signalId, provider);
    return provider;
  }

  private readonly usernames = new Map<string, string | null>();

  /** A user's Discord username, null when not on record. */
  async username(userId: string): Promise<string | null> {
    if (this.usernames.has(userId)) return this.usernames.get(userId) ?? null;
    const user = await userById(database(this.parts.env().DB), userId);
    const name = user?.username ?? null;
    remember(this.usernames, userId, name);
    return name;
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
}
