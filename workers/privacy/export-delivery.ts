import { editKey, followUp } from "../../platform/notifications/notify-queue";
import { rateLimiterFor } from "../../platform/objects";
import type { DiscordMessage } from "../../shared/notifications/message";
import { MAX_EXPORT_PARTS, packExportFiles } from "../../shared/privacy/export-files";
import type { RateLimitPolicy } from "../../shared/rate-limit";
import type { CommunityContext } from "../discord/context";
import { messageBody } from "../discord/respond";
import { memberExport } from "./member-export";

/** One export per member and community every 5 minutes: it reads every table that holds them. */
export const EXPORT_RATE_LIMIT: RateLimitPolicy = { limit: 1, periodMs: 5 * 60_000 };

const kib = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))} KB`;

/**
 * /privacy export's work after its private deferral: the rate limit, the document, the audit entry
 * (`privacy.exported`, before anything leaves), then the file on a private follow-up sent after the deferral's edit.
 * Returns the edit's text. A document too large for one queue message goes in numbered parts, each its own
 * follow-up; one that would need more than MAX_EXPORT_PARTS is refused in words.
 */
export async function deliverMemberExport(ctx: CommunityContext): Promise<DiscordMessage> {
  const userId = ctx.member.user.id;
  const key = `privacy-export:${ctx.community.id}:${userId}`;
  const allowed = await rateLimiterFor(ctx.env, key).limit(key, EXPORT_RATE_LIMIT);
  if (!allowed.allowed) {
    const minutes = Math.max(1, Math.ceil(allowed.retryAfterMs / 60_000));
    return messageBody(
      `You asked for an export a moment ago: one every 5 minutes. Try again in about ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    );
  }
  const document = await memberExport({
    env: ctx.env,
    db: ctx.db,
    tenant: ctx.tenant,
    community: ctx.community,
    userId,
  });
  const base = `privacy-export-${ctx.community.guildId}-${document.exportedAt.slice(0, 10)}`;
  const packed = await packExportFiles(base, document);
  if (!packed.ok) {
    ctx.logger.warn("privacy.export_too_large", { jsonBytes: packed.jsonBytes, reason: packed.reason });
    return messageBody(
      `Your export (${kib(packed.jsonBytes)} of JSON) is larger than this bot can send you in ${MAX_EXPORT_PARTS} ` +
        "files, so nothing was sent. Ask the community's admins to contact the operator, who can hand it to you " +
        "another way.",
    );
  }
  const { files } = packed;
  await ctx.tenant.audit.append({
    event: "privacy.exported",
    actorId: userId,
    target: userId,
    data: {
      bytes: packed.jsonBytes,
      orders: document.orders.length,
      fills: document.fills.length,
      signals: document.signals.length,
      auditEntries: document.auditEntries.length,
      files: files.length,
    },
  });
  for (const [i, attachment] of files.entries()) {
    const label = files.length === 1 ? "" : ` (part ${i + 1} of ${files.length})`;
    await followUp(ctx.env, ctx.target, messageBody(`📎 ${attachment.filename}${label}`, { ephemeral: true }), {
      communityId: ctx.community.id,
      purpose: files.length === 1 ? "privacy-export" : `privacy-export-part-${i + 1}`,
      afterKey: editKey(ctx.target),
      attachment,
    });
  }
  ctx.logger.info("privacy.exported", { jsonBytes: packed.jsonBytes, files: files.length });
  const carriers =
    files.length === 1
      ? "a file only you can see"
      : `${files.length} files only you can see (part 1 has everything but the long lists, and says which part holds each slice of them)`;
  return messageBody(
    `Your data in this community (${kib(packed.jsonBytes)} of JSON) follows in ${carriers}: your ` +
      "membership, follows, risk settings, notices, signals, orders and fills, paper account, broker connections " +
      "(never their credentials), webhooks (never their keys), audit entries about you, sessions and sign-ins. " +
      "Nothing from other communities is in it.",
  );
}
