import { digestMessage, type SkippedCopy } from "../../shared/notifications/order-messages";
import { utcDay } from "../../shared/risk/daily-loss";
import type { OrderBadges } from "./order-badges";

/** At most this many skipped copies are kept per member and day; the digest counts the rest. */
const MAX_PER_MEMBER_DAY = 200;

export interface DigestEntry extends SkippedCopy {
  userId: string;
  signalId: string;
  mode: "paper" | "live";
}

export interface DueDigest {
  userId: string;
  day: string;
  mode: "paper" | "live";
  skips: SkippedCopy[];
  /** Skipped copies past the per-day cap (counted, not listed). */
  more: number;
}

/**
 * Skipped copies of members who chose the daily digest, kept in the executor's
 * own storage (written in the same synchronous step as the fan-out's
 * decisions) until the daily cron sends each member one DM per UTC day.
 */
export class SkipDigest {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists skip_digest (user_id text not null, day text not null, signal_id text not null,
        provider text, signal text not null, reason text not null, message text not null, mode text not null,
        primary key (user_id, day, signal_id))`,
    );
  }

  /** Forgets a member's waiting digest entries (a member erased from the community). */
  forget(userId: string): void {
    this.sql.exec("delete from skip_digest where user_id = ?", userId);
  }

  add(day: string, entries: readonly DigestEntry[]): void {
    for (const e of entries) {
      const [row] = this.sql
        .exec<{ n: number }>("select count(*) as n from skip_digest where user_id = ? and day = ?", e.userId, day)
        .toArray();
      const full = (row?.n ?? 0) >= MAX_PER_MEMBER_DAY;
      this.sql.exec(
        "insert or ignore into skip_digest (user_id, day, signal_id, provider, signal, reason, message, mode) values (?, ?, ?, ?, ?, ?, ?, ?)",
        e.userId,
        day,
        full ? "+more" : e.signalId,
        e.provider,
        e.signal,
        e.reason,
        e.message,
        e.mode,
      );
      if (full) {
        this.sql.exec(
          "update skip_digest set message = cast(coalesce(cast(message as integer), 0) + 1 as text) where user_id = ? and day = ? and signal_id = '+more'",
          e.userId,
          day,
        );
      }
    }
  }

  /** Digests of days before `today`, one per member and day. */
  due(today: string): DueDigest[] {
    const rows = this.sql
      .exec<{
        user_id: string;
        day: string;
        signal_id: string;
        provider: string | null;
        signal: string;
        reason: string;
        message: string;
        mode: string;
      }>("select * from skip_digest where day < ? order by user_id, day, rowid", today)
      .toArray();
    const digests = new Map<string, DueDigest>();
    for (const row of rows) {
      const key = `${row.user_id}:${row.day}`;
      let digest = digests.get(key);
      if (!digest) {
        digest = {
          userId: row.user_id,
          day: row.day,
          mode: row.mode === "live" ? "live" : "paper",
          skips: [],
          more: 0,
        };
        digests.set(key, digest);
      }
      if (row.signal_id === "+more") digest.more += Number(row.message) || 0;
      else digest.skips.push({ provider: row.provider, signal: row.signal, reason: row.reason, message: row.message });
    }
    return [...digests.values()];
  }

  /** Forgets a digest once its DM is queued. */
  sent(userId: string, day: string): void {
    this.sql.exec("delete from skip_digest where user_id = ? and day = ?", userId, day);
  }
}

/** Sends each due digest (badged, through the one DM sender) and forgets it once queued. */
export async function sendDueDigests(
  parts: { digest: SkipDigest; badges: OrderBadges },
  communityId: string,
  now: number,
): Promise<{ sent: number }> {
  let sent = 0;
  for (const due of parts.digest.due(utcDay(now))) {
    await parts.badges.tell(
      communityId,
      { userId: due.userId, signalId: "none", mode: due.mode },
      `skip-digest:${due.day}`,
      digestMessage(due.day, due.skips, due.more),
    );
    parts.digest.sent(due.userId, due.day);
    sent++;
  }
  return { sent };
}
