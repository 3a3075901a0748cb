import { describe, expect, it } from "vitest";
import { packJsonAttachment, unpackAttachment } from "../../shared/notifications/attachment";
import { MAX_ATTACHMENT_BASE64_CHARS } from "../../shared/notifications/message";

describe("file attachments on NOTIFY_QUEUE", () => {
  it("Scenario: A file too large for one queue message is refused before it is queued", async () => {
    // Random text does not compress: about 200 KB of it cannot fit the queue's budget once gzipped.
    const noise = Array.from({ length: 3_000 }, () => crypto.randomUUID() + crypto.randomUUID());
    const packed = await packJsonAttachment("big.json", { noise });
    expect(packed.ok).toBe(false);
    if (packed.ok) return;
    expect(packed.packedChars).toBeGreaterThan(MAX_ATTACHMENT_BASE64_CHARS);
    expect(packed.jsonBytes).toBeGreaterThan(200_000);

    const small = await packJsonAttachment("small.json", { rows: Array.from({ length: 2_000 }, (_, i) => ({ i })) });
    expect(small.ok).toBe(true);
    if (!small.ok) return;
    const text = new TextDecoder().decode(await unpackAttachment(small.attachment));
    expect(JSON.parse(text).rows).toHaveLength(2_000);
  });
});
