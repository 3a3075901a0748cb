import type { ExecutionEvent } from "../execution/events";
import { NOTICE_KIND_TABLE, type NoticeKind } from "./kinds";
import type { DiscordMessage } from "./message";

/** The text a notice shows in the inbox and on the realtime channel: the message's content, else its embeds' text. */
export function noticeText(message: string | DiscordMessage): string {
  if (typeof message === "string") return message.slice(0, 2000);
  if (message.content) return message.content;
  const parts = (message.embeds ?? []).flatMap((embed) =>
    [embed.title, embed.description].filter((part): part is string => typeof part === "string" && part.length > 0),
  );
  return parts.join("\n").slice(0, 2000);
}

/**
 * The `notification` event a notice is on its member's realtime `notifications` channel: `key` (the event it is
 * about), `kind`, `title` and `content`; `id` once it is stored in the inbox (the consumer's publish), absent when
 * its sender publishes it before it is stored.
 */
export function noticeEvent(
  notice: {
    communityId: string;
    userId: string;
    event: string;
    kind: NoticeKind;
    message: string | DiscordMessage;
    id?: string;
  },
  at: number,
): ExecutionEvent {
  return {
    type: "notification",
    communityId: notice.communityId,
    audience: { userId: notice.userId },
    data: {
      ...(notice.id ? { id: notice.id } : {}),
      key: notice.event,
      kind: notice.kind,
      title: NOTICE_KIND_TABLE[notice.kind].title,
      content: noticeText(notice.message),
    },
    at,
  };
}
