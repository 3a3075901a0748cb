import { describe, expect, it } from "vitest";
import { isAllowedOrigin, isFormLike } from "../../shared/auth/csrf";
import {
  authorizeUrl,
  grantedAllScopes,
  pkceChallenge,
  pkceVerifier,
  safeReturnPath,
} from "../../shared/auth/discord-oauth";
import { countryName, countryOf, deviceLabel, newSignInMessage, signInNovelty } from "../../shared/auth/sign-in-alert";

const UA = {
  firefoxLinux: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  chromeWindows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  edgeWindows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  safariMac:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  safariIphone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
  chromeAndroid:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
};

describe("sign-in facts", () => {
  it("Scenario: Devices are named by browser and system, countries from CF-IPCountry", () => {
    expect(deviceLabel(UA.firefoxLinux)).toBe("Firefox on Linux");
    expect(deviceLabel(UA.chromeWindows)).toBe("Chrome on Windows");
    expect(deviceLabel(UA.edgeWindows)).toBe("Edge on Windows");
    expect(deviceLabel(UA.safariMac)).toBe("Safari on macOS");
    expect(deviceLabel(UA.safariIphone)).toBe("Safari on iOS");
    expect(deviceLabel(UA.chromeAndroid)).toBe("Chrome on Android");
    expect(deviceLabel("curl/8.5.0")).toBe("curl");
    expect(deviceLabel("SomeBot (Linux)")).toBe("a browser on Linux");
    expect(deviceLabel(null)).toBe("an unknown browser");

    expect(countryOf("de")).toBe("DE");
    expect(countryOf("XX")).toBeNull();
    expect(countryOf("T1")).toBe("T1");
    expect(countryOf("Germany")).toBeNull();
    expect(countryOf(undefined)).toBeNull();
    expect(countryName("BR")).toBe("Brazil (BR)");
    expect(countryName("T1")).toBe("the Tor network");
    expect(countryName(null)).toBeNull();

    const home = { device: "Firefox on Linux", country: "DE" };
    expect(signInNovelty([], home)).toBeNull();
    expect(signInNovelty([home], home)).toEqual({ newDevice: false, newCountry: false });
    expect(signInNovelty([home], { ...home, country: "BR" })).toEqual({ newDevice: false, newCountry: true });
    expect(signInNovelty([home], { device: "Chrome on Android", country: null })).toEqual({
      newDevice: true,
      newCountry: false,
    });
    expect(
      newSignInMessage({
        place: { device: "Chrome on Android", country: null },
        at: 1_700_000_000_000,
        signOutEverywhereUrl: "https://x/l",
      }),
    ).toBe(
      "🔐 New sign-in to your dashboard from Chrome on Android, <t:1700000000:f>.\nNot you? Sign out everywhere: https://x/l\n(The link works once, for 7 days.)",
    );
  });

  it("Scenario: Only a path under /app is a return path", () => {
    for (const good of ["/app", "/app/", "/app/communities/c1?tab=orders", "/app#top"]) {
      expect(safeReturnPath(good)).toBe(good);
    }
    for (const bad of [
      undefined,
      "",
      "https://evil.example/app",
      "//evil.example/app",
      "/app//evil.example",
      "/app/..%2f..%2fevil",
      "/app\\evil",
      "/apple",
      "/auth/logout",
      `/app/${"x".repeat(600)}`,
    ]) {
      expect(safeReturnPath(bad)).toBe("/app");
    }
  });

  it("Scenario: The PKCE verifier is derived from the state and its challenge is S256", async () => {
    const verifier = await pkceVerifier("secret-secret-secret-secret-secret-00", "state-1");
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await pkceVerifier("secret-secret-secret-secret-secret-00", "state-1")).toBe(verifier);
    expect(await pkceVerifier("secret-secret-secret-secret-secret-00", "state-2")).not.toBe(verifier);
    // RFC 7636 Appendix B's example pair.
    expect(await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    const url = new URL(
      authorizeUrl({
        authorizeUrl: "https://discord.com/oauth2/authorize",
        clientId: "100000000000000001",
        redirectUri: "https://dte.example/auth/discord/callback",
        state: "s",
        codeChallenge: "c",
      }),
    );
    expect(url.searchParams.get("scope")).toBe("identify guilds");
    expect(grantedAllScopes("guilds identify email")).toBe(true);
    expect(grantedAllScopes("identify")).toBe(false);
    expect(isAllowedOrigin("https://dte.example", ["https://dte.example"])).toBe(true);
    expect(isAllowedOrigin("https://dte.example.evil", ["https://dte.example"])).toBe(false);
    expect(isAllowedOrigin("not a url", ["https://dte.example"])).toBe(false);
    expect(isFormLike("application/json; charset=utf-8")).toBe(false);
    expect(isFormLike("text/plain")).toBe(true);
    expect(isFormLike(undefined)).toBe(true);
  });
});
