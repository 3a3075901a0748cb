import { ButtonStyle, buttonRow, signComponentId } from "../../shared/discord/components";
import { quoteWithHighlights, textOfQuote } from "../../shared/discord/quoted-text";
import { snowflakeTime } from "../../shared/execution/submit";
import { MAX_SIGNAL_TEXT_LENGTH } from "../../shared/signals/errors";
import { readingErrors, readSignalText, type SignalReading } from "../../shared/signals/reading";
import type { CommunityContext } from "./context";
import type { ComponentInteraction } from "./interaction-schema";
import { ephemeral, type InteractionResponse, modal } from "./respond";
import { outsideSignalChannels } from "./signal-channels";
import { intakeSignal } from "./signal-intake";

/**
 * A provider's signal text kept on an ephemeral message (an embed) so a button can open it again in a modal, ready to
 * send: [Edit & resend] after the text did not read as a signal, [Post as new signal] for a message too old to
 * execute. The modal's submit is a new signal, posted now (its interaction id is the source id).
 */

export const SIGNAL_DRAFT_MODAL_ID = "signal:draft";
const DRAFT_BUTTON_LIFETIME_SECONDS = 15 * 60;
const EMBED_DESCRIPTION_MAX = 4096;
const HIGHLIGHT = "__**";

type DraftMessage = { content: string; embeds?: Record<string, unknown>[]; components?: Record<string, unknown>[] };

/** The text (highlighted where the spans say) in an embed, with a signed button that opens it in the modal. */
async function withDraft(
  ctx: CommunityContext<unknown>,
  text: string,
  button: { label: string; action: "edit" | "post" },
  spans: { start: number; end: number }[] = [],
): Promise<Pick<DraftMessage, "embeds" | "components"> | null> {
  const secret = ctx.config.SESSION_SECRET;
  const description = quoteWithHighlights(text, spans);
  if (!secret || description.length > EMBED_DESCRIPTION_MAX) return null;
  const customId = await signComponentId(
    secret,
    { kind: "draft", action: button.action, id: ctx.interaction.id },
    { lifetimeSeconds: DRAFT_BUTTON_LIFETIME_SECONDS },
  );
  return {
    embeds: [{ description }],
    components: [buttonRow([{ customId, label: button.label, style: ButtonStyle.PRIMARY }])],
  };
}

/**
 * A signal that did not read: the problems in words (codes only in the log), the offending words highlighted in the
 * provider's own text, and [Edit & resend] to fix it in place.
 */
export async function unreadableSignal(
  ctx: CommunityContext<unknown>,
  reading: Extract<SignalReading, { ok: false }>,
  text: string | null,
): Promise<InteractionResponse> {
  ctx.logger.info("signal.unreadable", { codes: reading.errors.map((e) => e.code) });
  const lines = [
    "⚠️ Not posted: this did not read as a signal, so nothing was stored or sent.",
    ...readingErrors(reading),
  ];
  if (text === null) return ephemeral(lines.join("\n"));
  const spans = reading.errors.flatMap((e) => (e.span ? [e.span] : []));
  const draft = await withDraft(ctx, text, { label: "Edit & resend", action: "edit" }, spans);
  if (!draft) return ephemeral(lines.join("\n"));
  const highlighted = JSON.stringify(draft.embeds).includes(HIGHLIGHT);
  lines.push(
    highlighted
      ? "The words at fault are highlighted below; **Edit & resend** opens your text to fix it."
      : "**Edit & resend** opens your text (below) to fix it.",
  );
  return ephemeral(lines.join("\n"), draft.components, draft.embeds);
}

/** A message too old to execute as it is: offer to post its text now, as a new signal. */
export async function staleMessagePrompt(
  ctx: CommunityContext<unknown>,
  text: string,
  ageMs: number,
  maxAgeSeconds: number,
): Promise<InteractionResponse> {
  const lines = [
    `This message is ${ageInWords(ageMs)} old: post it now as a new signal?`,
    `Signals are executed within ${maxAgeSeconds} s of posting, so it was not executed as it is; **Post as new signal** opens its text, ready to send.`,
  ];
  const draft = await withDraft(ctx, text, { label: "Post as new signal", action: "post" });
  if (!draft) return ephemeral(`${lines[0]} Copy its text into \`/signal text:\` to post it now.`);
  return ephemeral(lines.join("\n"), draft.components, draft.embeds);
}

/** "45 s", "2 min", "3 h", "2 days": how old a message is, rounded. */
export function ageInWords(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** A draft button pressed: the text kept on its message, in a modal ready to send (within the input's limit). */
export function openDraft(interaction: ComponentInteraction): InteractionResponse {
  const description = interaction.message?.embeds?.[0]?.description;
  const text = description === undefined ? "" : textOfQuote(description).trim();
  return modal(SIGNAL_DRAFT_MODAL_ID, "Post a signal", [
    {
      customId: "text",
      label: "Your signal",
      style: 2,
      required: true,
      maxLength: MAX_SIGNAL_TEXT_LENGTH,
      placeholder: "BUY AAPL 10 @ 190.50 SL 185 TP 195",
      ...(text ? { value: text.slice(0, MAX_SIGNAL_TEXT_LENGTH) } : {}),
    },
  ]);
}

/** The draft modal's submit: a new signal from this provider, now, under the same rules as `/signal`. */
export async function submitDraft(
  ctx: CommunityContext<unknown>,
  values: Record<string, string>,
): Promise<InteractionResponse> {
  const refusal = outsideSignalChannels(ctx.settings, ctx.channelId);
  if (refusal) return ephemeral(refusal);
  const text = (values.text ?? "").trim();
  if (!text) return ephemeral("The signal was empty, so nothing was posted.");
  const sourceTimestamp = snowflakeTime(ctx.interaction.id);
  const reading = readSignalText(text, sourceTimestamp);
  if (!reading.ok) return unreadableSignal(ctx, reading, text);
  return intakeSignal(ctx, {
    signal: reading.signal,
    rawText: text,
    source: "slash",
    sourceId: ctx.interaction.id,
    sourceTimestamp,
    channelId: ctx.channelId,
  });
}
