/**
 * The script of `/app/security` (served as `/app/security.js`: the page's CSP allows scripts from this site only,
 * never inline). It calls `/api/v1/me/mfa` with the session cookie and the page's CSRF token, and writes only text
 * (`textContent`), never HTML; the QR code is shown as a `data:` image.
 */
export const SECURITY_PAGE_SCRIPT = `"use strict";
(() => {
  const csrf = document.currentScript ? document.currentScript.dataset.csrfToken : "";
  const $ = (id) => document.getElementById(id);
  const show = (id, on) => { $(id).hidden = !on; };
  const say = (text) => { $("message").textContent = text; };

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || "Request failed (" + res.status + ").");
    return data;
  }

  async function refresh() {
    const status = await api("GET", "/api/v1/me/mfa");
    const on = status.state === "active";
    $("status").textContent = on
      ? "Two-factor authentication is on. Backup codes left: " + status.backupCodesLeft + "." +
        (status.stepUpUntil ? " Verified until " + new Date(status.stepUpUntil).toLocaleTimeString() + "." : "")
      : "Two-factor authentication is off.";
    show("enrol", !on);
    show("verify", on);
    show("disable", on);
    if (on) show("scan", false);
  }

  $("start").addEventListener("click", async () => {
    try {
      const enrolment = await api("POST", "/api/v1/me/mfa", {});
      $("qr").src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(enrolment.qrSvg);
      $("secret").textContent = enrolment.secret;
      $("uri").textContent = enrolment.otpauthUri;
      show("scan", true);
      say("Scan the code with your authenticator app, then type the code it shows.");
    } catch (error) { say(error.message); }
  });

  $("confirm").addEventListener("click", async () => {
    try {
      const result = await api("POST", "/api/v1/me/mfa/confirm", { code: $("confirm-code").value.trim() });
      const list = $("code-list");
      list.replaceChildren(...result.backupCodes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      }));
      show("codes", true);
      say("Two-factor authentication is on.");
      await refresh();
    } catch (error) { say(error.message); }
  });

  $("verify-button").addEventListener("click", async () => {
    try {
      await api("POST", "/api/v1/me/mfa/verify", { code: $("verify-code").value.trim() });
      $("verify-code").value = "";
      say("Verified: protected actions are allowed for 10 minutes.");
      await refresh();
    } catch (error) { say(error.message); }
  });

  $("disable-button").addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/v1/me/mfa");
      show("codes", false);
      say("Two-factor authentication is off.");
      await refresh();
    } catch (error) { say(error.message); }
  });

  refresh().catch((error) => say(error.message));
})();
`;
