import { constantTimeEqual } from "../crypto/constant-time";
import { fromBase64Url, toBase64Url } from "../crypto/encoding";

/**
 * MFA backup codes: ten single-use codes shown once at enrolment, kept only as slow salted hashes.
 *
 * A code is three groups of four characters (`7k2m-q9xd-4hpt`) in Crockford's base32 (no i, l, o or u; a typed i or l
 * is read as 1, an o as 0). The
 * first group is its `lookup`, stored in the clear and unique among the user's codes, so a code is checked against
 * one hash rather than ten; the other eight characters (40 bits) are the secret, and the lockout after five
 * failures bounds guessing. The hash is PBKDF2-SHA256 over the whole code with a per-code random salt, at 100,000
 * iterations: slow for an attacker holding the table, and the most WebCrypto on Workers derives in one call.
 */

export const BACKUP_CODE_COUNT = 10;
export const BACKUP_CODE_ITERATIONS = 100_000;
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS = 3;
const GROUP_LENGTH = 4;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const encoder = new TextEncoder();

export interface BackupCodeRecord {
  lookup: string;
  salt: string;
  hash: string;
  iterations: number;
}

/** `BACKUP_CODE_COUNT` new codes with distinct lookups: the codes to show once, and what to store. */
export async function newBackupCodes(): Promise<{ codes: string[]; records: BackupCodeRecord[] }> {
  const codes: string[] = [];
  const lookups = new Set<string>();
  while (codes.length < BACKUP_CODE_COUNT) {
    const code = randomCode();
    const lookup = lookupOf(code);
    if (lookup === null || lookups.has(lookup)) continue;
    lookups.add(lookup);
    codes.push(code);
  }
  const records = await Promise.all(codes.map((code) => hashBackupCode(code)));
  return { codes, records };
}

function randomCode(): string {
  // 32 letters: each random byte's low five bits pick one without bias.
  const bytes = crypto.getRandomValues(new Uint8Array(GROUPS * GROUP_LENGTH));
  const chars = [...bytes].map((byte) => ALPHABET[byte & 31] ?? ALPHABET[0]);
  const groups: string[] = [];
  for (let i = 0; i < GROUPS; i++) groups.push(chars.slice(i * GROUP_LENGTH, (i + 1) * GROUP_LENGTH).join(""));
  return groups.join("-");
}

/** A code as typed (any case, spaces or dashes anywhere) in its canonical form, or null when it cannot be one. */
export function normalizeBackupCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, "").replace(/[il]/g, "1").replace(/o/g, "0");
  if (compact.length !== GROUPS * GROUP_LENGTH || [...compact].some((char) => !ALPHABET.includes(char))) return null;
  const groups: string[] = [];
  for (let i = 0; i < GROUPS; i++) groups.push(compact.slice(i * GROUP_LENGTH, (i + 1) * GROUP_LENGTH));
  return groups.join("-");
}

/** The lookup group of a canonical code. */
export function lookupOf(code: string): string | null {
  return normalizeBackupCode(code)?.slice(0, GROUP_LENGTH) ?? null;
}

export async function hashBackupCode(
  code: string,
  salt: Uint8Array = crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
  iterations = BACKUP_CODE_ITERATIONS,
): Promise<BackupCodeRecord> {
  const canonical = normalizeBackupCode(code);
  if (!canonical) throw new Error("Not a backup code.");
  const hash = await derive(canonical, salt, iterations);
  return { lookup: canonical.slice(0, GROUP_LENGTH), salt: toBase64Url(salt), hash: toBase64Url(hash), iterations };
}

/** Whether a canonical code matches its stored record (compared in constant time). */
export async function backupCodeMatches(code: string, record: BackupCodeRecord): Promise<boolean> {
  const canonical = normalizeBackupCode(code);
  const salt = fromBase64Url(record.salt);
  if (!canonical || !salt) return false;
  return constantTimeEqual(toBase64Url(await derive(canonical, salt, record.iterations)), record.hash);
}

async function derive(code: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(code), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}
