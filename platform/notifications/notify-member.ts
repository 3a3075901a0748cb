import type { EventSink } from "../../shared/execution/events";
import { noticeKindOf } from "../../shared/notifications/kinds";
import { noticeEvent } from "../../shared/notifications/notice-event";
import { type DirectMessage, type DiscordIdLookup, directMessage } from "./notify-queue";

/**
 * What telling a member needs: the bindings, the sink that reaches their realtime channel, and optionally how to
 * find their Discord id (by default read from `users` each time).
 */
export interface NotifyDeps {
  env: Env;
  events: EventSink;
  discordIdOf?: DiscordIdLookup;
}

/** A notice to a member of a community: a direct message there. */
export type MemberNotice = DirectMessage & { communityId: string };

/**
 * Tells a member something about their trading: by Discord DM (`directMessage`, the one DM sender: retried,
 * rate-limited and dead-lettered by the notifications consumer, at most once per event), and as a `notification`
 * event on their realtime `notifications` channel at once (the consumer stores it in their inbox), so a dashboard
 * shows it even when the DM cannot be delivered.
 */
export async function notifyMember(deps: NotifyDeps, dm: MemberNotice): Promise<void> {
  if (!(await directMessage(deps.env, { ...dm, published: true }, deps.discordIdOf))) return;
  await deps.events.publish(noticeEvent({ ...dm, kind: noticeKindOf(dm.event) }, Date.now()));
}
