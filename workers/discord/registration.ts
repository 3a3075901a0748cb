import { PERMISSION } from "../../shared/discord/permission-bits";
import { isStaffOnly } from "../../shared/rbac/matrix";
import {
  ALL_DEFINITIONS,
  type ChatCommandDefinition,
  type CommandDefinition,
  type OptionDefinition,
} from "./definitions";
import { OptionTypeCode } from "./options";

/**
 * The body of `PUT /applications/{application.id}/commands` (or the guild
 * route), generated from the definitions. Guild-only: `contexts: [0]` (GUILD)
 * and `integration_types: [0]` (GUILD_INSTALL). Staff commands (those no
 * provider, trader or viewer may run) are hidden by default from members without
 * Manage Server (ADMINISTRATOR implies it; a server can show them to its
 * moderators in its integration settings); the Worker checks the role matrix
 * again on every call.
 */

const GUILD_CONTEXT = 0;
const GUILD_INSTALL = 0;
const APPLICATION_COMMAND_TYPE = { CHAT_INPUT: 1, MESSAGE: 3 } as const;

interface RegisteredOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string | number }[];
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
  autocomplete?: boolean;
  channel_types?: number[];
  options?: RegisteredOption[];
}

export interface RegisteredCommand {
  type: number;
  name: string;
  /** Chat commands only: Discord refuses a description on a message command. */
  description?: string;
  options?: RegisteredOption[];
  default_member_permissions: string | null;
  contexts: number[];
  integration_types: number[];
  nsfw: boolean;
}

function optionPayload(option: OptionDefinition): RegisteredOption {
  const out: RegisteredOption = {
    type: OptionTypeCode[option.type],
    name: option.name,
    description: option.description,
    required: option.required ?? false,
  };
  switch (option.type) {
    case "string":
      if (option.choices) out.choices = option.choices.map((c) => ({ ...c }));
      if (option.minLength !== undefined) out.min_length = option.minLength;
      if (option.maxLength !== undefined) out.max_length = option.maxLength;
      if (option.autocomplete) out.autocomplete = true;
      break;
    case "integer":
    case "number":
      if (option.choices) out.choices = option.choices.map((c) => ({ ...c }));
      if (option.minValue !== undefined) out.min_value = option.minValue;
      if (option.maxValue !== undefined) out.max_value = option.maxValue;
      break;
    case "channel":
      if (option.channelTypes) out.channel_types = [...option.channelTypes];
      break;
  }
  return out;
}

function chatOptions(definition: ChatCommandDefinition): RegisteredOption[] | undefined {
  if (definition.subcommands) {
    return definition.subcommands.map((sub) => ({
      type: OptionTypeCode.subcommand,
      name: sub.name,
      description: sub.description,
      ...(sub.options ? { options: sortRequiredFirst(sub.options.map(optionPayload)) } : {}),
    }));
  }
  return definition.options ? sortRequiredFirst(definition.options.map(optionPayload)) : undefined;
}

/** Discord refuses a required option after an optional one. */
function sortRequiredFirst(options: RegisteredOption[]): RegisteredOption[] {
  return [...options.filter((o) => o.required), ...options.filter((o) => !o.required)];
}

function commandPayload(definition: CommandDefinition): RegisteredCommand {
  const common = {
    default_member_permissions: isStaffOnly(definition.requires) ? String(PERMISSION.MANAGE_GUILD) : null,
    contexts: [GUILD_CONTEXT],
    integration_types: [GUILD_INSTALL],
    nsfw: false,
  };
  if (definition.kind === "message") {
    return { type: APPLICATION_COMMAND_TYPE.MESSAGE, name: definition.name, ...common };
  }
  const options = chatOptions(definition);
  return {
    type: APPLICATION_COMMAND_TYPE.CHAT_INPUT,
    name: definition.name,
    description: definition.description,
    ...(options ? { options } : {}),
    ...common,
  };
}

/** The bulk-overwrite body: every command, in definition order. */
export function registrationPayload(definitions: readonly CommandDefinition[] = ALL_DEFINITIONS): RegisteredCommand[] {
  return definitions.map(commandPayload);
}
