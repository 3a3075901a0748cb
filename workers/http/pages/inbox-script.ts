/**
 * The script of `/app/inbox`, served as `/app/inbox.js` (the page's CSP allows scripts from this site only, never
 * inline). It lists the member's notices (unread first), marks them read, and refetches when a `notification`
 * arrives on the realtime socket of any of their communities (each socket narrowed to the `notifications` channel).
 * Text is set with `textContent` only.
 */
export const INBOX_SCRIPT = `"use strict";
(function () {
  var list = document.getElementById("notices");
  var count = document.getElementById("unread");
  var status = document.getElementById("status");
  var markAll = document.getElementById("mark-all");

  function api(path, init) {
    return fetch(path, Object.assign({ credentials: "same-origin", headers: { accept: "application/json" } }, init || {}))
      .then(function (res) {
        if (res.status === 401) { location.href = "/auth/discord/login?next=/app/inbox"; throw new Error("signed out"); }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      });
  }

  function markRead(body) {
    return api("/api/v1/me/notifications/read", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    }).then(load);
  }

  function item(notice) {
    var li = document.createElement("li");
    li.dataset.id = notice.id;
    if (!notice.readAt) li.className = "unread";
    var title = document.createElement("strong");
    title.textContent = (notice.readAt ? "" : "● ") + notice.title + " · " + new Date(notice.createdAt).toLocaleString();
    var body = document.createElement("p");
    body.textContent = notice.body;
    li.appendChild(title);
    li.appendChild(body);
    if (notice.delivery.status === "failed") {
      var note = document.createElement("small");
      note.textContent = "Not delivered by DM: " + (notice.delivery.lastError || "Discord refused it");
      li.appendChild(note);
    }
    if (!notice.readAt) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Mark read";
      button.addEventListener("click", function () { markRead({ ids: [notice.id] }); });
      li.appendChild(button);
    }
    return li;
  }

  function load() {
    return api("/api/v1/me/notifications?limit=100").then(function (page) {
      var notices = page.notices.slice().sort(function (a, b) {
        return (a.readAt ? 1 : 0) - (b.readAt ? 1 : 0) || b.createdAt - a.createdAt;
      });
      list.replaceChildren.apply(list, notices.map(item));
      count.textContent = page.unread + " unread";
      status.textContent = notices.length === 0 ? "No notices yet." : "";
    }).catch(function (error) { status.textContent = "Could not load your notices (" + error.message + ")."; });
  }

  function listen(communityId, delay) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/api/v1/communities/" + encodeURIComponent(communityId) + "/realtime");
    socket.addEventListener("open", function () {
      delay = 1000;
      socket.send(JSON.stringify({ type: "unsubscribe", channels: ["portfolio", "orders", "signals"] }));
    });
    socket.addEventListener("message", function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      var events = frame.type === "batch" ? frame.events : [frame];
      if (events.some(function (event) { return event.type === "notification"; })) load();
    });
    socket.addEventListener("close", function () {
      setTimeout(function () { listen(communityId, Math.min(delay * 2, 60000)); }, delay);
    });
  }

  markAll.addEventListener("click", function () { markRead({ all: true }); });
  load();
  api("/api/v1/me").then(function (me) {
    me.communities.forEach(function (community) { listen(community.id, 1000); });
  });
})();
`;
