// The page's tab bar and the small API every tab script uses.
//
// A tab script (listed in TAB_SCRIPTS in explorer/app.py) calls
//   chainrule.registerTab({id, title, init(panel), show(panel), online()})
// `panel` is the <section class="tab-panel" data-tab=id> in index.html, created empty when
// the page has none. `init` runs once, the first time the tab is shown; `show` each time;
// `online` when the server answers again after it had stopped answering.
// chainrule.api(path, body) POSTs JSON (GET without body) and resolves to the parsed reply;
// a 4xx reply rejects with an Error whose .message is the server's words and .column the
// position in an expression, when there is one. When the server cannot be reached, it
// rejects with err.offline = true and the page shows a banner until the server is back.
// chainrule.plotConfig() is the Plotly config every plot uses (no upload buttons, no logo).
"use strict";

(function () {
  const tabs = [];
  let active = null;

  function panelFor(id) {
    let panel = document.querySelector(`section.tab-panel[data-tab="${id}"]`);
    if (!panel) {
      panel = document.createElement("section");
      panel.className = "tab-panel";
      panel.dataset.tab = id;
      document.getElementById("tabs").appendChild(panel);
    }
    return panel;
  }

  function activate(id, focus) {
    const tab = tabs.find((t) => t.id === id) || tabs[0];
    if (!tab) return;
    for (const t of tabs) {
      const on = t === tab;
      t.panel.hidden = !on;
      t.button.setAttribute("aria-selected", on ? "true" : "false");
      t.button.tabIndex = on ? 0 : -1;
      t.button.classList.toggle("active", on);
    }
    active = tab;
    if (focus) tab.button.focus();
    if (!tab.started) {
      tab.started = true;
      if (tab.init) tab.init(tab.panel);
    }
    if (tab.show) tab.show(tab.panel);
    if (location.hash !== `#${tab.id}`) {
      history.replaceState(null, "", location.pathname + location.search + `#${tab.id}`);
    }
  }

  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
  function onTabKey(e) {
    const i = tabs.findIndex((t) => t.button === e.currentTarget);
    const n = tabs.length;
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1 + n, Home: 0, End: n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    activate(tabs[to % n].id, true);
  }

  function registerTab(spec) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "tab");
    button.id = `tab-button-${spec.id}`;
    button.textContent = spec.title;
    button.addEventListener("click", () => activate(spec.id));
    button.addEventListener("keydown", onTabKey);
    document.getElementById("tabbar").appendChild(button);
    const tab = Object.assign({}, spec, { button, panel: panelFor(spec.id), started: false });
    tab.panel.id = tab.panel.id || `tab-panel-${spec.id}`;
    tab.panel.setAttribute("role", "tabpanel");
    tab.panel.setAttribute("aria-labelledby", button.id);
    button.setAttribute("aria-controls", tab.panel.id);
    button.setAttribute("aria-selected", "false");
    button.tabIndex = -1;
    tab.panel.hidden = true;
    tabs.push(tab);
  }

  // ------------------------------------------------------------ the server stopped answering
  let offline = false, poll = null;

  function banner() {
    let el = document.getElementById("offline");
    if (!el) {
      el = document.createElement("div");
      el.id = "offline";
      el.className = "offline";
      el.setAttribute("role", "alert");
      el.hidden = true;
      document.body.prepend(el);
    }
    return el;
  }

  function goneOffline() {
    if (offline) return;
    offline = true;
    document.body.dataset.offline = "true";
    const el = banner();
    el.textContent = "The explorer's server is not answering, so nothing on this page can be " +
      "updated. Start it again with `chainrule explore` in a terminal (in Jupyter: run " +
      "chainrule.explorer.show_app() again); this page reconnects by itself.";
    el.hidden = false;
    poll = setInterval(async () => {
      try {
        const reply = await fetch("/api/catalog", { cache: "no-store" });
        if (reply.ok) backOnline();
      } catch (e) {
        // still down
      }
    }, 1500);
  }

  function backOnline() {
    if (!offline) return;
    offline = false;
    clearInterval(poll);
    banner().hidden = true;
    delete document.body.dataset.offline;
    for (const t of tabs) if (t.started && t.online) t.online(t.panel);
  }

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    let reply;
    try {
      reply = await fetch(path, init);
    } catch (e) {
      goneOffline();
      const err = new Error("The server is not answering.");
      err.offline = true;
      throw err;
    }
    let data = null;
    try {
      data = await reply.json();
    } catch (e) {
      data = null;
    }
    if (!reply.ok) {
      const err = new Error((data && data.error) || `request failed (${reply.status})`);
      err.column = data ? data.column : null;
      err.status = reply.status;
      throw err;
    }
    backOnline();
    return data;
  }

  // Every plot's Plotly config: an offline tool offers no upload ("Share chart") and no logo.
  const NO_BUTTONS = ["sendChartToCloud", "sendDataToCloud", "editInChartStudio", "lasso2d",
    "select2d"];
  function plotConfig(extra) {
    const remove = NO_BUTTONS.concat((extra && extra.modeBarButtonsToRemove) || []);
    return Object.assign({ displaylogo: false, responsive: true, showSendToCloud: false,
      showEditInChartStudio: false, showLink: false }, extra || {},
    { modeBarButtonsToRemove: remove });
  }

  window.chainrule = {
    registerTab, api, activate, plotConfig,
    get activeTab() { return active && active.id; },
    get offline() { return offline; },
  };

  document.addEventListener("DOMContentLoaded", () => {
    activate(location.hash.slice(1));
  });
  window.addEventListener("hashchange", () => {
    const id = location.hash.slice(1);
    if (tabs.some((t) => t.id === id) && (!active || active.id !== id)) activate(id);
  });
})();
