import type { EventSink } from "../../shared/execution/events";
import { type DirectMessage, directMessage } from "./notify-queue";

/** What telling a member needs: the bindings, and the sink that reaches their realtime channel. */
export interface NotifyDeps {
  env: Env;
  events: EventSink;
}

/** A notice to a member of a community: a direct message there. */
export type MemberNotice = DirectMessage & { communityId: string };

/**
 * Tells a member something about their trading: by Discord DM (`directMessage`, the one DM sender: retried,
 * rate-limited and dead-lettered by the notifications consumer, at most once per event), and as a `notification`
 * event on their realtime `notifications` channel, so a dashboard shows it even when the DM cannot be delivered.
 */
export async function notifyMember(deps: NotifyDeps, dm: MemberNotice): Promise<void> {
  if (!(await directMessage(deps.env, dm))) return;
  const content = typeof dm.message === "string" ? dm.message.slice(0, 2000) : (dm.message.content ?? null);
  await deps.events.publish({
    type: "notification",
    communityId: dm.communityId,
    audience: { userId: dm.userId },
    data: { key: dm.event, content },
    at: Date.now(),
  });
}
