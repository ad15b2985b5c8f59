// The page's tab bar and the small API every tab script uses.
//
// A tab script (listed in TAB_SCRIPTS in explorer/app.py) calls
//   chainrule.registerTab({id, title, init(panel), show(panel)})
// `panel` is the <section class="tab-panel" data-tab=id> in index.html, created empty when
// the page has none. `init` runs once, the first time the tab is shown; `show` each time.
// chainrule.api(path, body) POSTs JSON (GET without body) and resolves to the parsed reply;
// a 4xx reply rejects with an Error whose .message is the server's words and .column the
// position in an expression, when there is one.
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

  function activate(id) {
    const tab = tabs.find((t) => t.id === id) || tabs[0];
    if (!tab) return;
    for (const t of tabs) {
      const on = t === tab;
      t.panel.hidden = !on;
      t.button.setAttribute("aria-selected", on ? "true" : "false");
      t.button.classList.toggle("active", on);
    }
    active = tab;
    if (!tab.started) {
      tab.started = true;
      if (tab.init) tab.init(tab.panel);
    }
    if (tab.show) tab.show(tab.panel);
    if (location.hash !== `#${tab.id}`) history.replaceState(null, "", `#${tab.id}`);
  }

  function registerTab(spec) {
    const button = document.createElement("button");
    button.type = "button";
    button.role = "tab";
    button.id = `tab-button-${spec.id}`;
    button.textContent = spec.title;
    button.addEventListener("click", () => activate(spec.id));
    document.getElementById("tabbar").appendChild(button);
    const tab = Object.assign({}, spec, { button, panel: panelFor(spec.id), started: false });
    tab.panel.hidden = true;
    tabs.push(tab);
  }

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const reply = await fetch(path, init);
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
    return data;
  }

  window.chainrule = { registerTab, api, activate, get activeTab() { return active && active.id; } };

  document.addEventListener("DOMContentLoaded", () => {
    activate(location.hash.slice(1));
  });
})();
