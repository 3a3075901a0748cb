/**
 * What a sign-in looked like (browser and system from the user agent, the country Cloudflare saw) and whether it is
 * new for the member: a device (browser on system) or a country none of their earlier sign-ins came from. The very
 * first sign-in has nothing to compare with and is not news.
 */

export interface SignInPlace {
  /** "Firefox on Linux"; "an unknown browser" when the user agent says nothing useful. */
  device: string;
  /** ISO 3166-1 alpha-2 from `CF-IPCountry`, or null (no header, `XX`). */
  country: string | null;
}

const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bChrome\/|\bCriOS\//, "Chrome"],
  [/\bSafari\//, "Safari"],
  [/\bcurl\//, "curl"],
];
const SYSTEMS: readonly [RegExp, string][] = [
  [/\bAndroid\b/, "Android"],
  [/\biPhone\b|\biPad\b|\biPod\b/, "iOS"],
  [/\bWindows\b/, "Windows"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

export function deviceLabel(userAgent: string | null | undefined): string {
  const agent = userAgent ?? "";
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? (system ? `a browser on ${system}` : "an unknown browser");
}

/** `CF-IPCountry`: two capital letters; `XX` (no data) and anything else count as unknown. `T1` (Tor) is kept. */
export function countryOf(header: string | null | undefined): string | null {
  const code = header?.trim().toUpperCase() ?? "";
  return /^[A-Z][A-Z0-9]$/.test(code) && code !== "XX" ? code : null;
}

export interface SignInNovelty {
  newDevice: boolean;
  newCountry: boolean;
}

/** Compared with the member's earlier sign-ins; null for the first one ever. */
export function signInNovelty(previous: readonly SignInPlace[], current: SignInPlace): SignInNovelty | null {
  if (previous.length === 0) return null;
  return {
    newDevice: !previous.some((place) => place.device === current.device),
    newCountry: current.country !== null && !previous.some((place) => place.country === current.country),
  };
}

export function countryName(code: string | null): string | null {
  if (!code) return null;
  if (code === "T1") return "the Tor network";
  try {
    const name = new Intl.DisplayNames(["en"], { type: "region" }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** The DM: where from, when, and the way out. */
export function newSignInMessage(input: { place: SignInPlace; at: number; signOutEverywhereUrl: string }): string {
  const where = countryName(input.place.country);
  const seconds = Math.floor(input.at / 1000);
  return [
    `🔐 New sign-in to your dashboard from ${input.place.device}${where ? ` in ${where}` : ""}, <t:${seconds}:f>.`,
    `Not you? Sign out everywhere: ${input.signOutEverywhereUrl}`,
    "(The link works once, for 7 days.)",
  ].join("\n");
}
