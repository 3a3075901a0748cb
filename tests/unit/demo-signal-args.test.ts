import { describe, expect, it } from "vitest";
import { DEFAULT_DEMO_PORT, DEFAULT_DEMO_SIGNAL, parseDemoArgs } from "../../scripts/lib/demo-args.ts";

describe("npm run demo:signal arguments", () => {
  it("sends the README's example as written when no --port is given", () => {
    expect(parseDemoArgs(["SHORT ETHUSDT 3400 sl 3550 tp 3200"])).toEqual({
      ok: true,
      args: { text: "SHORT ETHUSDT 3400 sl 3550 tp 3200", port: DEFAULT_DEMO_PORT },
    });
  });

  it("takes the text before or after --port", () => {
    const expected = { ok: true, args: { text: "BTO AAPL 12/20 190C @ 2.50", port: 8790 } };
    expect(parseDemoArgs(["BTO AAPL 12/20 190C @ 2.50", "--port", "8790"])).toEqual(expected);
    expect(parseDemoArgs(["--port", "8790", "BTO AAPL 12/20 190C @ 2.50"])).toEqual(expected);
    expect(parseDemoArgs(["--port=8790", "BTO AAPL 12/20 190C @ 2.50"])).toEqual(expected);
  });

  it("joins unquoted words into one signal", () => {
    const result = parseDemoArgs(["SHORT", "ETHUSDT", "3400", "sl", "3550", "tp", "3200"]);
    expect(result).toEqual({ ok: true, args: { text: "SHORT ETHUSDT 3400 sl 3550 tp 3200", port: DEFAULT_DEMO_PORT } });
  });

  it("reads demo:dashboard's member name the same way, with its own default and usage", () => {
    const options = { defaultText: "demo_trader_1", usage: "Usage: npm run demo:dashboard" };
    expect(parseDemoArgs([], undefined, options)).toEqual({
      ok: true,
      args: { text: "demo_trader_1", port: DEFAULT_DEMO_PORT },
    });
    expect(parseDemoArgs(["demo_owner", "--port", "8790"], undefined, options)).toEqual({
      ok: true,
      args: { text: "demo_owner", port: 8790 },
    });
    expect(parseDemoArgs(["--as", "x"], undefined, options)).toEqual({
      ok: false,
      message: "Unknown option --as. Usage: npm run demo:dashboard",
    });
  });

  it("falls back to the default signal, and to PORT before the default port", () => {
    expect(parseDemoArgs([])).toEqual({ ok: true, args: { text: DEFAULT_DEMO_SIGNAL, port: DEFAULT_DEMO_PORT } });
    expect(parseDemoArgs([], "9000")).toEqual({ ok: true, args: { text: DEFAULT_DEMO_SIGNAL, port: 9000 } });
    expect(parseDemoArgs(["--port", "9001"], "9000")).toEqual({
      ok: true,
      args: { text: DEFAULT_DEMO_SIGNAL, port: 9001 },
    });
  });

  it("refuses a missing or bad port and an unknown option instead of guessing", () => {
    for (const argv of [
      ["BUY 10 AAPL MKT", "--port"],
      ["--port", "abc"],
      ["--port=0"],
      ["--port", "70000"],
      ["--prot", "1"],
    ]) {
      const result = parseDemoArgs(argv);
      expect(result.ok, argv.join(" ")).toBe(false);
      if (!result.ok) expect(result.message).toContain("Usage: npm run demo:signal");
    }
    expect(parseDemoArgs([], "eighty").ok).toBe(false);
  });
});
