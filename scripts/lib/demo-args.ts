/**
 * The command line of `npm run demo:signal -- [text…] [--port N | --port=N]`, and of `demo:dashboard` with a
 * member's name for the text (pure: tested in
 * tests/unit/demo-signal-args.test.ts). The words that are not the port flag are the signal, so
 * `-- "SHORT ETHUSDT 3400 sl 3550 tp 3200"` and `-- SHORT ETHUSDT 3400 sl 3550 tp 3200` send the same text.
 */

export const DEFAULT_DEMO_SIGNAL = "BUY 10 AAPL MKT";
export const DEFAULT_DEMO_PORT = 8787;

interface DemoArgs {
  text: string;
  port: number;
}

export type DemoArgsResult = { ok: true; args: DemoArgs } | { ok: false; message: string };

const DEMO_USAGE = 'Usage: npm run demo:signal -- ["BUY 10 AAPL MKT"] [--port 8787]';

/** What the words mean when none are given, and the usage line errors end with (`demo:signal`'s by default). */
export interface DemoArgsOptions {
  defaultText: string;
  usage: string;
}

export function parseDemoArgs(
  argv: readonly string[],
  envPort?: string,
  options: DemoArgsOptions = { defaultText: DEFAULT_DEMO_SIGNAL, usage: DEMO_USAGE },
): DemoArgsResult {
  const usage = options.usage;
  const words: string[] = [];
  let portText: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--port") {
      portText = argv[i + 1];
      if (portText === undefined) return { ok: false, message: `--port needs a value. ${usage}` };
      i++;
    } else if (arg.startsWith("--port=")) {
      portText = arg.slice("--port=".length);
    } else if (arg.startsWith("--")) {
      return { ok: false, message: `Unknown option ${arg}. ${usage}` };
    } else {
      words.push(arg);
    }
  }
  const port = portOf(portText ?? envPort);
  if (port === null) return { ok: false, message: `"${portText ?? envPort}" is not a port (1-65535). ${usage}` };
  const text = words.join(" ").trim();
  return { ok: true, args: { text: text === "" ? options.defaultText : text, port } };
}

function portOf(text: string | undefined): number | null {
  if (text === undefined || text === "") return DEFAULT_DEMO_PORT;
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : null;
}
