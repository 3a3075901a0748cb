import { z } from "zod";
import type { ChatCommandDefinition, OptionDefinition } from "./definitions";
import type { CommandOption } from "./interaction-schema";

/**
 * Validates a command's options against its definition: the Discord type of
 * each option, then its value (choices, ranges, lengths), with one precise
 * message per problem. Nothing is written before this passes.
 */

export const OptionTypeCode = {
  subcommand: 1,
  string: 3,
  integer: 4,
  boolean: 5,
  user: 6,
  channel: 7,
  role: 8,
  mentionable: 9,
  number: 10,
} as const;

const TYPE_WORDS: Record<OptionDefinition["type"], string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  user: "a user",
  channel: "a channel",
  role: "a role",
  mentionable: "a user or role",
};

const snowflake = z.string().regex(/^\d{17,20}$/, "must be a Discord id");

function valueSchema(option: OptionDefinition): z.ZodType {
  switch (option.type) {
    case "string": {
      if (option.choices) {
        const values = option.choices.map((c) => c.value);
        return z.string().refine((v) => values.includes(v), `must be one of ${values.join(", ")}`);
      }
      let schema = z.string();
      if (option.minLength !== undefined)
        schema = schema.min(option.minLength, `must be at least ${option.minLength} characters`);
      if (option.maxLength !== undefined)
        schema = schema.max(option.maxLength, `must be at most ${option.maxLength} characters`);
      return schema;
    }
    case "integer":
    case "number": {
      let schema = option.type === "integer" ? z.number().int("must be a whole number") : z.number().finite();
      if (option.minValue !== undefined) schema = schema.min(option.minValue, `must be at least ${option.minValue}`);
      if (option.maxValue !== undefined) schema = schema.max(option.maxValue, `must be at most ${option.maxValue}`);
      if (option.choices) {
        const values = option.choices.map((c) => c.value);
        return schema.refine((v) => values.includes(v), `must be one of ${values.join(", ")}`);
      }
      return schema;
    }
    case "boolean":
      return z.boolean();
    default:
      return snowflake;
  }
}

export type OptionsResult = { ok: true; options: Record<string, unknown> } | { ok: false; errors: string[] };

function parseOptionList(defined: readonly OptionDefinition[], given: readonly CommandOption[]): OptionsResult {
  const errors: string[] = [];
  const options: Record<string, unknown> = {};
  const byName = new Map(defined.map((o) => [o.name, o]));
  for (const option of given) {
    const definition = byName.get(option.name);
    if (!definition) {
      errors.push(`Unknown option \`${option.name}\`.`);
      continue;
    }
    if (option.type !== OptionTypeCode[definition.type]) {
      errors.push(`Option \`${option.name}\` must be ${TYPE_WORDS[definition.type]}.`);
      continue;
    }
    const parsed = valueSchema(definition).safeParse(option.value);
    if (!parsed.success) {
      const why =
        parsed.error.issues[0]?.code === "invalid_type"
          ? `must be ${TYPE_WORDS[definition.type]}`
          : parsed.error.issues[0]?.message;
      errors.push(`Option \`${option.name}\` ${why}.`);
      continue;
    }
    options[option.name] = parsed.data;
  }
  for (const definition of defined) {
    if (definition.required && !(definition.name in options) && !given.some((o) => o.name === definition.name)) {
      errors.push(`Option \`${definition.name}\` is required.`);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, options };
}

/** The options of a chat command, validated; a command with subcommands yields `{subcommand, ...options}`. */
export function parseCommandOptions(
  definition: ChatCommandDefinition,
  given: readonly CommandOption[] = [],
): OptionsResult {
  if (!definition.subcommands) return parseOptionList(definition.options ?? [], given);
  const [chosen, ...rest] = given;
  const subcommand = definition.subcommands.find((s) => s.name === chosen?.name);
  if (!chosen || rest.length > 0 || chosen.type !== OptionTypeCode.subcommand || !subcommand) {
    const names = definition.subcommands.map((s) => s.name).join(", ");
    return { ok: false, errors: [`/${definition.name} needs one subcommand: ${names}.`] };
  }
  const result = parseOptionList(subcommand.options ?? [], chosen.options ?? []);
  return result.ok ? { ok: true, options: { subcommand: subcommand.name, ...result.options } } : result;
}

/** The option the member is typing in (autocomplete), at any subcommand depth. */
export function focusedOption(given: readonly CommandOption[] = []): { name: string; value: string } | null {
  for (const option of given) {
    if (option.focused) return { name: option.name, value: String(option.value ?? "") };
    const nested = focusedOption(option.options);
    if (nested) return nested;
  }
  return null;
}
