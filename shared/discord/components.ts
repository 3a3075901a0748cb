import { fromBase64Url, toBase64Url } from "../crypto/encoding";

/**
 * Signed, short-lived component ids. A button's `custom_id` (1–100 characters)
 * names a server-side record and an expiry, and carries an HMAC-SHA256 tag
 * under SESSION_SECRET: `<kind>:<action>:<id>:<exp base36 seconds>:<tag>`.
 * A forged, altered or expired id is refused before anything is looked up.
 */

export const BUTTON_LIFETIME_SECONDS = 5 * 60;
const MAX_CUSTOM_ID = 100;
/** 16 bytes of the tag (128 bits), base64url: 22 characters. */
const TAG_BYTES = 16;

const ID = /^[A-Za-z0-9-]{1,48}$/;
const WORD = /^[a-z]{1,12}$/;

export interface ComponentRef {
  kind: string;
  action: string;
  id: string;
}

export type ComponentVerification =
  | ({ ok: true; expiresAt: number } & ComponentRef)
  | { ok: false; reason: "malformed" | "bad_signature" }
  /** The tag verified, so the kind is the app's own: it says what to do instead of pressing again. */
  | { ok: false; reason: "expired"; kind: string };

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(`discord-component:${secret}`),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(secret, key);
  }
  return key;
}

async function tagOf(secret: string, payload: string): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(payload));
  return new Uint8Array(mac).slice(0, TAG_BYTES);
}

export async function signComponentId(
  secret: string,
  ref: ComponentRef,
  options: { nowMs?: number; lifetimeSeconds?: number } = {},
): Promise<string> {
  if (!WORD.test(ref.kind) || !WORD.test(ref.action) || !ID.test(ref.id)) {
    throw new TypeError(
      `Component reference ${ref.kind}:${ref.action}:${ref.id} has characters a custom_id cannot carry.`,
    );
  }
  const expires =
    Math.floor((options.nowMs ?? Date.now()) / 1000) + (options.lifetimeSeconds ?? BUTTON_LIFETIME_SECONDS);
  const payload = `${ref.kind}:${ref.action}:${ref.id}:${expires.toString(36)}`;
  const customId = `${payload}:${toBase64Url(await tagOf(secret, payload))}`;
  if (customId.length > MAX_CUSTOM_ID)
    throw new RangeError(`custom_id is ${customId.length} characters (max ${MAX_CUSTOM_ID}).`);
  return customId;
}

export async function verifyComponentId(
  secret: string,
  customId: string,
  options: { nowMs?: number } = {},
): Promise<ComponentVerification> {
  const parts = customId.split(":");
  if (parts.length !== 5) return { ok: false, reason: "malformed" };
  const [kind = "", action = "", id = "", exp = "", tag = ""] = parts;
  if (!WORD.test(kind) || !WORD.test(action) || !ID.test(id) || !/^[0-9a-z]{1,10}$/.test(exp)) {
    return { ok: false, reason: "malformed" };
  }
  const given = fromBase64Url(tag);
  if (!given || given.length !== TAG_BYTES) return { ok: false, reason: "bad_signature" };
  const expected = await tagOf(secret, `${kind}:${action}:${id}:${exp}`);
  let difference = 0;
  for (let i = 0; i < TAG_BYTES; i++) difference |= (expected[i] ?? 0) ^ (given[i] ?? 0);
  if (difference !== 0) return { ok: false, reason: "bad_signature" };
  const expiresAt = Number.parseInt(exp, 36) * 1000;
  if ((options.nowMs ?? Date.now()) > expiresAt) return { ok: false, reason: "expired", kind };
  return { ok: true, kind, action, id, expiresAt };
}

export const ButtonStyle = { PRIMARY: 1, SECONDARY: 2, SUCCESS: 3, DANGER: 4, LINK: 5 } as const;

/** A row of buttons (a Discord action row). */
export function buttonRow(buttons: { customId: string; label: string; style: number }[]): Record<string, unknown> {
  return {
    type: 1,
    components: buttons.map((b) => ({ type: 2, custom_id: b.customId, label: b.label, style: b.style })),
  };
}

/** Confirm and Cancel buttons for an order awaiting its member's answer, signed and valid for `lifetimeSeconds`. */
export async function confirmationButtons(
  secret: string,
  orderId: string,
  lifetimeSeconds: number,
): Promise<Record<string, unknown>[]> {
  const [confirm, cancel] = await Promise.all([
    signComponentId(secret, { kind: "order", action: "confirm", id: orderId }, { lifetimeSeconds }),
    signComponentId(secret, { kind: "order", action: "cancel", id: orderId }, { lifetimeSeconds }),
  ]);
  return [
    buttonRow([
      { customId: confirm, label: "Confirm", style: ButtonStyle.SUCCESS },
      { customId: cancel, label: "Cancel", style: ButtonStyle.DANGER },
    ]),
  ];
}

/** [Close now] and [Keep] under a position an exit the member did not take left open, signed for `lifetimeSeconds`. */
export async function heldPositionButtons(
  secret: string,
  orderId: string,
  lifetimeSeconds: number,
): Promise<Record<string, unknown>[]> {
  const [close, keep] = await Promise.all([
    signComponentId(secret, { kind: "held", action: "close", id: orderId }, { lifetimeSeconds }),
    signComponentId(secret, { kind: "held", action: "keep", id: orderId }, { lifetimeSeconds }),
  ]);
  return [
    buttonRow([
      { customId: close, label: "Close now", style: ButtonStyle.DANGER },
      { customId: keep, label: "Keep", style: ButtonStyle.SECONDARY },
    ]),
  ];
}
