import { describe, expect, it } from "vitest";
import { isStaffOnly } from "../../shared/rbac/matrix";
import { ALL_DEFINITIONS, DEFINITIONS } from "../../workers/discord/definitions";
import { parseCommandOptions } from "../../workers/discord/options";
import { registrationPayload } from "../../workers/discord/registration";
import { HANDLERS } from "../../workers/discord/registry";

const CONTRACT_COMMANDS = [
  "signal",
  "trade",
  "follow",
  "unfollow",
  "risk",
  "broker",
  "portfolio",
  "orders",
  "cancel",
  "close",
  "paper",
  "killswitch",
  "setup",
  "member",
  "subscription",
  "dashboard",
  "webhook",
  "privacy",
  "help",
];

describe("command registry", () => {
  it("Scenario: The registration payload is generated from the registry", () => {
    const payload = registrationPayload();
    expect(payload.map((c) => c.name)).toEqual([...CONTRACT_COMMANDS, "Execute as signal"]);
    for (const command of payload) {
      expect(command.contexts).toEqual([0]);
      expect(command.integration_types).toEqual([0]);
      if (command.type === 1) {
        expect(command.name).toMatch(/^[-_\p{Ll}\p{N}]{1,32}$/u);
        expect(command.description?.length).toBeGreaterThan(0);
        expect(command.description?.length).toBeLessThanOrEqual(100);
      }
      for (const option of command.options ?? []) {
        expect(option.description.length).toBeLessThanOrEqual(100);
        const flat = [option, ...(option.options ?? [])];
        for (const o of flat) expect(o.name).toMatch(/^[-_\p{Ll}\p{N}]{1,32}$/u);
        // Discord refuses a required option after an optional one.
        const required = (option.options ?? []).map((o) => o.required);
        expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)));
      }
    }
    const byName = Object.fromEntries(payload.map((c) => [c.name, c]));
    expect(byName.killswitch?.default_member_permissions).toBe("32");
    expect(byName.setup?.default_member_permissions).toBe("32");
    expect(byName.signal?.default_member_permissions).toBeNull();
    expect(byName["Execute as signal"]).toMatchObject({ type: 3 });
    expect(byName.follow?.options).toEqual([
      { type: 6, name: "provider", description: "The signal provider to follow", required: true },
      {
        type: 3,
        name: "sizing",
        description: "How each order is sized (default: 1% risk)",
        required: false,
        choices: ["fixed_quantity", "fixed_notional", "percent_of_equity", "risk_percent", "multiplier"].map((v) => ({
          name: v,
          value: v,
        })),
      },
      {
        type: 10,
        name: "amount",
        description: "The sizing amount (shares, $, % or multiplier)",
        required: false,
        min_value: 0.0001,
        max_value: 10_000_000,
      },
      expect.objectContaining({
        type: 3,
        name: "mode",
        choices: [
          { name: "auto", value: "auto" },
          { name: "confirm", value: "confirm" },
        ],
      }),
      expect.objectContaining({
        type: 3,
        name: "exits",
        required: false,
        choices: [
          { name: "auto", value: "auto" },
          { name: "confirm", value: "confirm" },
        ],
      }),
    ]);
    expect(byName.broker?.options?.map((o) => [o.type, o.name])).toEqual([
      [1, "connect"],
      [1, "status"],
      [1, "disconnect"],
    ]);
    expect(byName.trade?.options?.find((o) => o.name === "symbol")).toMatchObject({
      autocomplete: true,
      max_length: 32,
    });
    expect(byName.unfollow?.options?.[0]).toMatchObject({ name: "provider", type: 3, autocomplete: true });
    expect(byName.setup?.options?.map((o) => [o.name, o.type])).toEqual([
      ["provider_role", 8],
      ["signal_channel", 7],
      ["provider", 6],
      ["remove_provider", 6],
      ["remove_provider_role", 8],
      ["remove_signal_channel", 7],
      ["unparsed_messages", 3],
      ["access_role", 8],
      ["remove_access_role", 5],
    ]);
    expect(byName.member?.options?.map((o) => [o.name, o.type])).toEqual([
      ["suspend", 1],
      ["unsuspend", 1],
    ]);
    expect(JSON.stringify(payload).length).toBeLessThan(8000 * payload.length);
  });

  it("Scenario: Every defined command has a handler", () => {
    expect(Object.keys(HANDLERS).sort()).toEqual(Object.keys(DEFINITIONS).sort());
    expect(ALL_DEFINITIONS.filter((d) => !d.requiresSetup).map((d) => d.name)).toEqual(["setup", "help"]);
    expect(ALL_DEFINITIONS.filter((d) => isStaffOnly(d.requires)).map((d) => d.name)).toEqual([
      "killswitch",
      "setup",
      "member",
    ]);
    expect(ALL_DEFINITIONS.filter((d) => d.requires === "signals.post").map((d) => d.name)).toEqual([
      "signal",
      "webhook",
      "Execute as signal",
    ]);
  });

  it("Scenario: Options of the wrong type are refused with a precise message", () => {
    const follow = DEFINITIONS.follow;
    expect(
      parseCommandOptions(follow, [
        { name: "provider", type: 6, value: "123456789012345678" },
        { name: "amount", type: 3, value: "ten" },
      ]),
    ).toEqual({ ok: false, errors: ["Option `amount` must be a number."] });
    expect(
      parseCommandOptions(follow, [
        { name: "provider", type: 6, value: "123456789012345678" },
        { name: "mode", type: 3, value: "yolo" },
      ]),
    ).toEqual({
      ok: false,
      errors: ["Option `mode` must be one of auto, confirm."],
    });
    expect(parseCommandOptions(follow, [{ name: "amount", type: 10, value: -1 }])).toEqual({
      ok: false,
      errors: ["Option `amount` must be at least 0.0001.", "Option `provider` is required."],
    });
    expect(
      parseCommandOptions(follow, [
        { name: "provider", type: 6, value: "123456789012345678" },
        { name: "x", type: 3, value: "1" },
      ]),
    ).toEqual({
      ok: false,
      errors: ["Unknown option `x`."],
    });
    expect(
      parseCommandOptions(follow, [
        { name: "provider", type: 6, value: "123456789012345678" },
        { name: "amount", type: 10, value: 2 },
        { name: "sizing", type: 3, value: "risk_percent" },
      ]),
    ).toEqual({ ok: true, options: { provider: "123456789012345678", amount: 2, sizing: "risk_percent" } });
  });

  it("parses subcommands", () => {
    expect(
      parseCommandOptions(DEFINITIONS.broker, [
        { name: "connect", type: 1, options: [{ name: "broker", type: 3, value: "alpaca" }] },
      ]),
    ).toEqual({
      ok: true,
      options: { subcommand: "connect", broker: "alpaca" },
    });
    expect(parseCommandOptions(DEFINITIONS.broker, [])).toEqual({
      ok: false,
      errors: ["/broker needs one subcommand: connect, status, disconnect."],
    });
    expect(
      parseCommandOptions(DEFINITIONS.broker, [
        { name: "connect", type: 1, options: [{ name: "broker", type: 3, value: "robinhood" }] },
      ]),
    ).toEqual({
      ok: false,
      errors: ["Option `broker` must be one of alpaca, schwab, etrade, ibkr, coinbase, binance, kraken, paper."],
    });
  });
});
