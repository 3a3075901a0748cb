import { fromBase64, toBase64 } from "../crypto/encoding";
import { MAX_ATTACHMENT_BASE64_CHARS, type NotificationAttachment } from "./message";

/**
 * A JSON file for an interaction follow-up, packed to travel on NOTIFY_QUEUE (gzip, then base64) and unpacked by the
 * notifications consumer just before it is sent. A file whose packed form exceeds the queue's budget is refused here,
 * with its sizes, so the caller can tell the member instead of queueing a message the queue would drop.
 */

export type PackedJson =
  | { ok: true; attachment: NotificationAttachment; jsonBytes: number }
  | { ok: false; jsonBytes: number; packedChars: number };

async function pipeThrough(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

export async function packJsonAttachment(
  filename: string,
  value: unknown,
  maxChars = MAX_ATTACHMENT_BASE64_CHARS,
): Promise<PackedJson> {
  const json = new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  const gzipBase64 = toBase64(await pipeThrough(json, new CompressionStream("gzip")));
  if (gzipBase64.length > maxChars) {
    return { ok: false, jsonBytes: json.byteLength, packedChars: gzipBase64.length };
  }
  return {
    ok: true,
    attachment: { filename, contentType: "application/json", gzipBase64 },
    jsonBytes: json.byteLength,
  };
}

/** The file's bytes as they are sent (inflated). Throws on a body that is not what `packJsonAttachment` makes. */
export async function unpackAttachment(attachment: NotificationAttachment): Promise<Uint8Array> {
  const packed = fromBase64(attachment.gzipBase64);
  if (!packed) throw new TypeError(`attachment ${attachment.filename} is not base64`);
  return pipeThrough(packed, new DecompressionStream("gzip"));
}
