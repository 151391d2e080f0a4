// Dasbor kiosk PKB: live updates (SSE), relative times, small form
// helpers. No framework; everything here is optional progressive
// enhancement: the pages work without it.
"use strict";
(function () {
  var body = document.body;

  // Relative times: <time datetime=... data-rel>.
  function ago(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return "baru saja";
    if (m < 60) return m + " menit lalu";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " jam lalu";
    return Math.floor(h / 24) + " hari lalu";
  }
  function refreshTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[data-rel]").forEach(function (t) {
      var at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at)) t.textContent = ago(now - at);
    });
  }
  setInterval(refreshTimes, 30000);

  // Forms: confirmation and submit-on-change (CSP forbids inline handlers).
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-autosubmit")) e.target.form.submit();
  });

  // Office totals: the sum of the counts rows.
  function refreshTotals() {
    var foot = document.getElementById("totals");
    if (!foot) return;
    foot.querySelectorAll("[data-sum]").forEach(function (cell) {
      var k = cell.getAttribute("data-sum"), n = 0;
      document.querySelectorAll("tr.counts").forEach(function (r) { n += +r.getAttribute("data-n-" + k) || 0; });
      cell.textContent = n;
    });
  }

  function fromHTML(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }
  function swap(data) {
    var el = document.getElementById(data.target);
    var fresh = fromHTML(data.html);
    if (!fresh) return false;
    if (el) {
      el.replaceWith(fresh);
      fresh.classList.add("flash-live");
      return true;
    }
    return false;
  }

  // reload fetches the page again and swaps <main>, keeping scroll
  // position; a full reload if that fails (e.g. the session ended).
  var reloading = false;
  function reload() {
    if (reloading) return;
    reloading = true;
    fetch(location.href, { credentials: "same-origin", redirect: "manual" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var main = doc.querySelector("main");
      if (!main) throw new Error("no main");
      var active = document.activeElement;
      if (active && active.form && document.querySelector("main").contains(active)) return; // typing: leave it
      // The kiosk's reply to an action is shown once (the server forgets
      // it): keep it across a live reload of the same page.
      var fl = document.querySelector("main > .flash");
      if (fl && !main.querySelector(".flash")) main.prepend(fl);
      document.querySelector("main").replaceWith(main);
      refreshTimes();
    }).catch(function () { location.reload(); }).finally(function () { reloading = false; });
  }

  var url = body.getAttribute("data-events");
  if (!url || !window.EventSource) return;
  var live = document.getElementById("live");
  function state(s, title) { if (live) { live.className = "live " + s; live.title = title; } }

  var es = null, failures = 0, wasOpen = false;
  function connect() {
    es = new EventSource(url);
    es.onopen = function () {
      state("on", "Pembaruan langsung aktif");
      if (wasOpen || failures > 0) reload(); // we may have missed changes
      wasOpen = true;
      failures = 0;
    };
    es.onerror = function () {
      state("off", "Pembaruan langsung terputus; mencoba lagi");
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. 401/503): retry ourselves, slower
        // each time; after a few tries reload, which leads to the login
        // page if the session ended.
        failures++;
        if (failures > 4) { location.reload(); return; }
        setTimeout(connect, Math.min(60000, 2000 * Math.pow(2, failures)));
      }
    };
    var reloadOn = body.getAttribute("data-reload-on");
    es.addEventListener("kiosk", function (e) {
      var d = JSON.parse(e.data);
      if (d.target === reloadOn) { reload(); return; }
      if (!swap(d) && (document.querySelector(".grid") || document.getElementById("fleet-empty"))) reload(); // a new kiosk
    });
    es.addEventListener("counts", function (e) {
      var d = JSON.parse(e.data);
      if (!swap(d) && (document.getElementById("counts") || document.getElementById("fleet-empty"))) reload(); // a new office
      refreshTotals();
    });
    es.addEventListener("incident", function (e) {
      var d = JSON.parse(e.data);
      if (d.target === reloadOn) { reload(); return; }
      if (swap(d)) return;
      var list = document.getElementById("incidents");
      if (!list) return;
      var want = list.getAttribute("data-state");
      var ok = !want || want === d.state || (want === "active" && d.state !== "resolved");
      if (ok) {
        var row = fromHTML("<table><tbody>" + d.html + "</tbody></table>");
        row = row && row.querySelector("tr");
        if (row) { list.insertBefore(row, list.firstChild); row.classList.add("flash-live"); }
      }
    });
    es.addEventListener("reload", reload);
  }
  connect();
})();
