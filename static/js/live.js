// Live dashboard: the WebSocket says "something changed", the page fetches its live fragment
// (rendered and formatted by the server) and swaps it in. When the socket drops, the page says
// so and refreshes every 30 s until the socket is back.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root) { return; }
  var target = document.getElementById(root.dataset.liveTarget);
  var status = document.getElementById("live-status");
  var words = document.body.dataset;
  var FALLBACK_MS = window.TRADINGSVC_FALLBACK_MS || 30000;  // tests shorten it
  var socket = null, pending = null, fallback = null, retry = 1000;
  // Counters for tests and bench/live_push.py: events seen, and when each arrived (epoch ms).
  window.tradingsvcLive = { events: 0, refreshes: 0, connected: false, arrivals: [] };

  function refresh() {
    pending = null;
    return fetch(root.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        target.innerHTML = html;
        window.tradingsvcLive.refreshes += 1;
        document.dispatchEvent(new CustomEvent("live:refreshed"));
      })
      .catch(function () { /* the next event or the fallback tries again */ });
  }

  function soon() { if (!pending) { pending = setTimeout(refresh, 150); } }

  function online() {
    window.tradingsvcLive.connected = true;
    retry = 1000;
    if (fallback) { clearInterval(fallback); fallback = null; }
    status.textContent = words.tLive || "Live";
    status.className = "live-status on";
  }

  function offline() {
    window.tradingsvcLive.connected = false;
    status.textContent = words.tOffline || "Live updates interrupted: refreshing every 30 s.";
    status.className = "live-status off";
    if (!fallback) { fallback = setInterval(refresh, FALLBACK_MS); }
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/live/");
    socket.onopen = function () { online(); refresh(); };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.op === "pong") { return; }
      window.tradingsvcLive.events += 1;
      window.tradingsvcLive.arrivals.push({ at: performance.timeOrigin + performance.now(), kind: message.kind });
      window.tradingsvcLive.last = message;
      soon();
    };
    socket.onclose = offline;
  }

  setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ op: "ping" })); }
  }, 20000);
  connect();
})();
