import { sha256Hex } from "../crypto/constant-time";

/**
 * The per-community audit hash chain (docs/architecture.md §8). Each row stores the hash
 * of the row before it; the community stores the hash and seq of the last row
 * (the head), so editing, deleting, reordering or truncating rows shows.
 */

export const GENESIS_HASH = "0".repeat(64);

const EVENT_NAME = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/**
 * Known event names; any well-formed `domain.action` name is accepted. Browser sign-ins write `auth.signed_in`,
 * `auth.sign_in_failed` and `auth.signed_out_everywhere`, and MFA the `mfa.*` names; the other `auth.*` names are
 * reserved for broker OAuth and data key rotation, which are planned: nothing writes them yet (audit-log spec).
 */
export const AUDIT_EVENTS = [
  "community.created",
  "community.role_changed",
  "community.halted",
  "community.resumed",
  "community.deleted",
  "community.restored",
  "community.settings_changed",
  "community.provider_named",
  "community.provider_removed",
  "member.departed",
  "risk.trading_mode_changed",
  "risk.account_locked",
  "risk.account_unlocked",
  "auth.signed_in",
  "auth.sign_in_failed",
  "auth.signed_out_everywhere",
  "auth.oauth2_token_exchange",
  "auth.oauth2_token_refresh",
  "auth.key_rotated",
  "auth.credentials_decrypted",
  "auth.credentials_revoked",
  "broker.disconnected",
  "mfa.enrolled",
  "mfa.verified",
  "mfa.failed",
  "mfa.backup_code_used",
  "mfa.disabled",
  "billing.plan_changed",
  "billing.trader_plan_changed",
  "flags.override_set",
  "flags.override_cleared",
  "privacy.exported",
  "privacy.deleted",
] as const;

export function isValidAuditEventName(event: string): boolean {
  return EVENT_NAME.test(event);
}

/** What the hash covers. */
export interface AuditEntryContent {
  communityId: string;
  seq: number;
  event: string;
  actorId: string | null;
  target: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}

export interface AuditChainRow extends AuditEntryContent {
  prevHash: string;
  hash: string;
}

export interface AuditHead {
  seq: number;
  /** null while the chain is empty. */
  hash: string | null;
}

export type ChainBreakReason = "hash_mismatch" | "prev_hash_mismatch" | "seq_gap" | "head_mismatch";

export type ChainVerification =
  | { ok: true; count: number; headHash: string }
  | { ok: false; count: number; brokenAt: { seq: number; reason: ChainBreakReason } };

/**
 * JSON with object keys sorted at every depth and no whitespace. Values go
 * through JSON first, so the text is the same before and after a D1 round trip.
 */
export function canonicalJson(value: unknown): string {
  const plain = JSON.parse(JSON.stringify(value) ?? "null") as unknown;
  return stringifySorted(plain);
}

function stringifySorted(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stringifySorted).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stringifySorted(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

function canonicalEntryContent(content: AuditEntryContent): string {
  const { communityId, seq, event, actorId, target, data, createdAt } = content;
  return canonicalJson({ communityId, seq, event, actorId, target, data, createdAt });
}

export function computeEntryHash(prevHash: string, content: AuditEntryContent): Promise<string> {
  return sha256Hex(prevHash + canonicalEntryContent(content));
}

/** Builds the row that follows `head`. */
export async function nextChainRow(head: AuditHead, content: Omit<AuditEntryContent, "seq">): Promise<AuditChainRow> {
  if (!isValidAuditEventName(content.event)) {
    throw new TypeError(`Audit event "${content.event}" is not a domain.action name.`);
  }
  const prevHash = head.hash ?? GENESIS_HASH;
  const full: AuditEntryContent = { ...content, seq: head.seq + 1 };
  return { ...full, prevHash, hash: await computeEntryHash(prevHash, full) };
}

/**
 * Verifies rows one at a time, in seq order, so a caller can stream a long
 * chain page by page without holding it all in memory.
 */
export class ChainVerifier {
  private count = 0;
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;
  private broken: { seq: number; reason: ChainBreakReason } | null = null;

  /** Returns false once the chain is broken; later rows are ignored. */
  async add(row: AuditChainRow): Promise<boolean> {
    if (this.broken) return false;
    const expectedSeq = this.lastSeq + 1;
    if (row.seq !== expectedSeq) return this.fail(expectedSeq, "seq_gap");
    if (row.prevHash !== this.lastHash) return this.fail(row.seq, "prev_hash_mismatch");
    if ((await computeEntryHash(row.prevHash, row)) !== row.hash) return this.fail(row.seq, "hash_mismatch");
    this.count++;
    this.lastSeq = row.seq;
    this.lastHash = row.hash;
    return true;
  }

  /** Compares the end of the chain with the head stored on the community, when given. */
  finish(head?: AuditHead): ChainVerification {
    if (this.broken) return { ok: false, count: this.count, brokenAt: this.broken };
    if (head) {
      const headHash = head.hash ?? GENESIS_HASH;
      if (head.seq !== this.lastSeq || headHash !== this.lastHash) {
        const seq = head.seq === this.lastSeq ? head.seq : Math.min(head.seq, this.lastSeq) + 1;
        return { ok: false, count: this.count, brokenAt: { seq, reason: "head_mismatch" } };
      }
    }
    return { ok: true, count: this.count, headHash: this.lastHash };
  }

  private fail(seq: number, reason: ChainBreakReason): false {
    this.broken = { seq, reason };
    return false;
  }
}

export async function verifyEntries(rows: readonly AuditChainRow[], head?: AuditHead): Promise<ChainVerification> {
  const verifier = new ChainVerifier();
  for (const row of [...rows].sort((a, b) => a.seq - b.seq)) {
    if (!(await verifier.add(row))) break;
  }
  return verifier.finish(head);
}
