import type { DiscordMessage } from "../../shared/notifications/message";

/** Interaction responses (Discord "Interaction Callback Type") and the message bodies they carry. */

const ResponseType = {
  PONG: 1,
  CHANNEL_MESSAGE_WITH_SOURCE: 4,
  DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: 5,
  DEFERRED_UPDATE_MESSAGE: 6,
  UPDATE_MESSAGE: 7,
  APPLICATION_COMMAND_AUTOCOMPLETE_RESULT: 8,
  MODAL: 9,
} as const;

/** A reply that carries its message now, and one that says the message follows (an edit of @original). */
export const CHANNEL_MESSAGE = ResponseType.CHANNEL_MESSAGE_WITH_SOURCE;
export const DEFERRED_REPLY = ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE;

const EPHEMERAL = 64;
const MAX_CONTENT = 2000;

export type InteractionResponse =
  | { type: typeof ResponseType.PONG }
  | { type: typeof ResponseType.CHANNEL_MESSAGE_WITH_SOURCE; data: DiscordMessage }
  | { type: typeof ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE; data?: { flags?: number } }
  | { type: typeof ResponseType.DEFERRED_UPDATE_MESSAGE }
  | { type: typeof ResponseType.UPDATE_MESSAGE; data: DiscordMessage }
  | {
      type: typeof ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT;
      data: { choices: AutocompleteChoice[] };
    }
  | { type: typeof ResponseType.MODAL; data: ModalData };

export interface AutocompleteChoice {
  name: string;
  value: string | number;
}

export interface TextInput {
  customId: string;
  label: string;
  value?: string;
  placeholder?: string;
  required?: boolean;
  maxLength?: number;
  /** 1 short (default), 2 paragraph. */
  style?: 1 | 2;
}

interface ModalData {
  custom_id: string;
  title: string;
  components: Record<string, unknown>[];
}

/** Cuts text to Discord's 2,000-character limit, marking the cut. */
function truncate(content: string, max = MAX_CONTENT): string {
  return content.length <= max ? content : `${content.slice(0, max - 1)}…`;
}

/** No pings from what members typed (a signal's text may contain @everyone). */
const NO_MENTIONS = { parse: [] as string[] };

export function messageBody(content: string, options: { ephemeral?: boolean } = {}): DiscordMessage {
  return {
    content: truncate(content),
    allowed_mentions: NO_MENTIONS,
    ...(options.ephemeral ? { flags: EPHEMERAL } : {}),
  };
}

export const pong = (): InteractionResponse => ({ type: ResponseType.PONG });

function reply(
  content: string,
  options: { ephemeral?: boolean; components?: DiscordMessage["components"]; embeds?: DiscordMessage["embeds"] } = {},
) {
  const data = messageBody(content, options);
  if (options.embeds) data.embeds = options.embeds;
  if (options.components) data.components = options.components;
  return { type: ResponseType.CHANNEL_MESSAGE_WITH_SOURCE, data } satisfies InteractionResponse;
}

/** Only the member who ran the command sees it. Everything personal goes this way. */
export const ephemeral = (
  content: string,
  components?: DiscordMessage["components"],
  embeds?: DiscordMessage["embeds"],
) => reply(content, { ephemeral: true, components, embeds });

export function deferred(options: { ephemeral: boolean }): InteractionResponse {
  return options.ephemeral
    ? { type: ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, data: { flags: EPHEMERAL } }
    : { type: ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE };
}

export const deferredUpdate = (): InteractionResponse => ({ type: ResponseType.DEFERRED_UPDATE_MESSAGE });

export function updateMessage(content: string, components: DiscordMessage["components"] = []): InteractionResponse {
  return { type: ResponseType.UPDATE_MESSAGE, data: { ...messageBody(content), components } };
}

export function autocompleteResult(choices: AutocompleteChoice[]): InteractionResponse {
  return {
    type: ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    data: { choices: choices.slice(0, 25).map((c) => ({ name: truncate(c.name, 100), value: c.value })) },
  };
}

/** A modal of text inputs, each in a Label (type 18), the layout Discord documents today. */
export function modal(customId: string, title: string, inputs: TextInput[]): InteractionResponse {
  return {
    type: ResponseType.MODAL,
    data: {
      custom_id: customId,
      title: truncate(title, 45),
      components: inputs.slice(0, 5).map((input) => ({
        type: 18,
        label: truncate(input.label, 45),
        component: {
          type: 4,
          custom_id: input.customId,
          style: input.style ?? 1,
          required: input.required ?? false,
          ...(input.value !== undefined ? { value: input.value } : {}),
          ...(input.placeholder ? { placeholder: truncate(input.placeholder, 100) } : {}),
          // Discord refuses a pre-filled value longer than max_length: the limit grows to fit, never cuts the value.
          ...(input.maxLength ? { max_length: Math.max(input.maxLength, input.value?.length ?? 0) } : {}),
        },
      })),
    },
  };
}

/** Discord: an embed field's value holds at most 1,024 characters. */
const EMBED_FIELD_VALUE_MAX = 1024;

/** Lines that fit one embed field's value, the rest counted ("…and 3 more"). */
export function embedFieldValue(lines: string[]): string {
  const kept: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const more = `…and ${lines.length - index} more`;
    if (length + line.length + 1 + more.length > EMBED_FIELD_VALUE_MAX) {
      kept.push(more);
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join("\n");
}
