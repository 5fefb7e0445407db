/* rollbook: search in the browser, the page side.

   The search engine is the same tantivy index as `rollbook search`, compiled to WebAssembly
   and run in a worker (search/worker.js). This file only talks to it: the header's search box
   (a combobox with results as you type) and the search page (full query language, facets,
   sort, state in the URL). Everything else on the site works without JavaScript.

   Report text is hostile input: nothing from a hit is ever parsed as HTML. Text goes into
   text nodes, highlights are rebuilt from `snippet_html` as <mark> elements, and a link is
   only ever root + a relative path. The one global is `window.RollbookSearch`. */

(() => {
  "use strict";

  const script = document.currentScript;
  /** The way back from this page to the site root, as the templates' `root` ("", "../", or
      "/sub/" on the 404 page): the script is always `{{ root }}search.js`. */
  const ROOT = ((script && script.getAttribute("src")) || "search.js").replace(/search\.js(?:[?#].*)?$/, "");
  const SEARCH_PAGE = ROOT + "search/index.html";
  const DEBOUNCE_MS = 120;
  const PAGE_LIMIT = 50;
  const BOX_LIMIT = 10;
  /** After this long without a reply, say that the index is loading. */
  const SLOW_MS = 400;

  const KIND_LABELS = { report: "Report", lesson: "Lesson", action: "Action", section: "Section" };
  const KIND_GROUPS = { report: "Reports", lesson: "Lessons", action: "Actions", section: "Sections" };
  const SECTION_LABELS = { root_cause: "Root cause" };

  /** The severities' ranks ("1 critical,2 high"), for the badge colours of custom names. */
  const SEVERITY_RANKS = new Map(
    ((script && script.dataset.severities) || "")
      .split(",")
      .map((pair) => pair.trim().split(" "))
      .filter((pair) => pair.length === 2)
      .map(([rank, name]) => [name, rank]),
  );

  // ---------- safe rendering ----------

  const NAMED_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

  /** The text of an HTML-escaped string: the entities the engine writes, and numeric ones. */
  function decodeEntities(text) {
    return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/g, (whole, name) => {
      if (name[0] !== "#") {
        return Object.prototype.hasOwnProperty.call(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : whole;
      }
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : "\uFFFD";
    });
  }

  /** Appends `snippet_html` to `parent` as text nodes, with the words inside <b>…</b> as
      <mark> elements. Never parsed as HTML: anything else that looks like a tag stays text. */
  function appendHighlighted(parent, snippetHtml) {
    let marked = false;
    for (const piece of String(snippetHtml).split(/(<b>|<\/b>)/)) {
      if (piece === "<b>") {
        marked = true;
      } else if (piece === "</b>") {
        marked = false;
      } else if (piece) {
        const text = document.createTextNode(decodeEntities(piece));
        if (marked) {
          const mark = document.createElement("mark");
          mark.appendChild(text);
          parent.appendChild(mark);
        } else {
          parent.appendChild(text);
        }
      }
    }
    return parent;
  }

  /** root + url for a path relative to the site root; null for anything else (a scheme such
      as javascript:, a protocol-relative //host, a root-absolute path, or characters that
      URL parsing would drop or reinterpret). */
  function safeHref(url) {
    if (typeof url !== "string" || url === "") return null;
    if (/[\u0000-\u0020\u007f\\]/.test(url)) return null;
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url) || url.startsWith("/")) return null;
    return ROOT + url;
  }

  /** An element with a class and text content. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function severityBadge(name) {
    const badge = el("span", "badge sev");
    badge.dataset.severity = name;
    badge.dataset.rank = SEVERITY_RANKS.get(name) || "0";
    badge.append(el("span", "visually-hidden", "Severity: "), name);
    return badge;
  }

  /** Whether two texts have the same words: a snippet is its text without the punctuation
      at the ends. */
  function sameText(a, b) {
    const norm = (s) => String(s || "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
    return norm(a) !== "" && norm(a) === norm(b);
  }

  /** The parts of a hit both views show: its title (highlighted when the snippet is the
      title, as for most lessons and actions), the snippet when it adds something, and a
      line of facts about its report. */
  function hitParts(hit, options) {
    const href = safeHref(hit.url);
    const titleIsSnippet = hit.kind !== "report" && sameText(hit.snippet, hit.title) && hit.snippet_html;
    const title = el(href ? "a" : "span", "hit-title");
    if (href) title.href = href;
    if (options.inert) title.tabIndex = -1;
    if (titleIsSnippet) appendHighlighted(title, hit.snippet_html);
    else title.textContent = hit.title || hit.report_title || hit.url;

    let snippet = null;
    if (!titleIsSnippet && (hit.snippet_html || hit.snippet)) {
      snippet = el("p", "hit-snippet");
      if (hit.snippet_html) appendHighlighted(snippet, hit.snippet_html);
      else snippet.textContent = hit.snippet;
    }

    const meta = el("div", "hit-meta");
    if (hit.kind !== "report" && hit.report_title) {
      const source = el("span", "hit-source");
      source.append("in ");
      const reportHref = safeHref(String(hit.url || "").split("#")[0]);
      const name = el(reportHref && !options.inert ? "a" : "span", "hit-report", hit.report_title);
      if (reportHref && !options.inert) name.href = reportHref;
      source.appendChild(name);
      if (hit.kind === "section" && hit.section) {
        source.append(" · " + (SECTION_LABELS[hit.section] || hit.section.replace(/_/g, " ")));
      }
      meta.appendChild(source);
    }
    if (hit.date) {
      const time = el("time", "hit-date", hit.date);
      time.dateTime = hit.date;
      meta.appendChild(time);
    }
    if (hit.severity) meta.appendChild(severityBadge(hit.severity));
    if (hit.kind === "action") meta.appendChild(actionState(hit));
    if (hit.kind === "action" && hit.owner) meta.appendChild(el("span", "hit-owner", hit.owner));
    if (hit.kind === "action" && hit.due) {
      const due = el("span", hit.overdue ? "hit-due text-overdue" : "hit-due", "due ");
      const time = el("time", null, hit.due);
      time.dateTime = hit.due;
      due.appendChild(time);
      meta.appendChild(due);
    }
    if (hit.kind === "lesson" && hit.category) meta.appendChild(el("span", "chip chip-category", hit.category));
    const services = Array.isArray(hit.services) ? hit.services.slice(0, options.maxServices || 6) : [];
    if (services.length) {
      const list = el("span", "hit-services");
      for (const service of services) list.appendChild(el("span", "chip chip-service", service));
      meta.appendChild(list);
    }
    if (!options.compact && Array.isArray(hit.tags) && hit.tags.length) {
      const list = el("span", "hit-tags");
      for (const tag of hit.tags.slice(0, 6)) list.appendChild(el("span", "chip chip-tag", tag));
      meta.appendChild(list);
    }
    return { title, snippet, meta };
  }

  function actionState(hit) {
    const state = hit.overdue ? "overdue" : hit.state === "done" ? "done" : "open";
    const label = { overdue: "Overdue", done: "Done", open: "Open" }[state];
    return el("span", "state state-" + state, label);
  }

  // ---------- the engine, in a worker started on first use ----------

  /** Why search cannot run here (`{message, needsHttp}`), or null. */
  let unavailable = null;
  let worker = null;
  let nextId = 1;
  const waiting = new Map();

  function engineProblem() {
    if (location.protocol === "file:") {
      return { needsHttp: true, message: "Search needs the site to be served over HTTP: browsers do not let a page opened from disk run it." };
    }
    if (typeof Worker !== "function") return { message: "This browser cannot run the search engine (it has no Web Workers)." };
    return null;
  }

  function startEngine() {
    if (worker || unavailable) return;
    unavailable = engineProblem();
    if (unavailable) return;
    try {
      worker = new Worker(ROOT + "search/worker.js");
    } catch (error) {
      // Some browsers refuse workers on pages they consider local or sandboxed.
      unavailable = { needsHttp: true, message: "The search engine could not start (" + ((error && error.message) || error) + ")." };
      return;
    }
    worker.onmessage = (event) => {
      const reply = event.data || {};
      const handler = waiting.get(reply.id);
      if (!handler) return;
      waiting.delete(reply.id);
      handler(reply);
    };
    const fail = (event) => {
      if (event && typeof event.preventDefault === "function") event.preventDefault();
      unavailable = { message: "The search engine could not start" + (event && event.message ? " (" + event.message + ")." : ".") };
      const handlers = [...waiting.values()];
      waiting.clear();
      for (const handler of handlers) handler({ ok: false, unavailable: true });
    };
    worker.onerror = fail;
    worker.onmessageerror = fail;
  }

  /** Sends a query; `handler` gets the reply. Returns the request's id. */
  function ask(query, handler) {
    startEngine();
    const id = nextId++;
    if (unavailable) {
      queueMicrotask(() => handler({ id, ok: false, unavailable: true }));
      return id;
    }
    waiting.set(id, handler);
    worker.postMessage({ id, query });
    return id;
  }

  function blankQuery() {
    return {
      text: "", kinds: [], severities: [], services: [], tags: [], teams: [],
      since: null, until: null, open: false, sort: "relevance", limit: PAGE_LIMIT, facets: false,
    };
  }

  /** The "search needs HTTP" message, with the lists that work everywhere. */
  function unavailableMessage() {
    const box = el("div", "search-unavailable");
    box.appendChild(el("p", null, (unavailable && unavailable.message) || "Search is not available."));
    const help = el("p");
    if (unavailable && unavailable.needsHttp) {
      help.append("Serve the output folder with any static web server, for example ");
      help.appendChild(el("code", null, "python3 -m http.server"));
      help.append(" in it. Meanwhile, browse ");
    } else {
      help.append("Reload the page to try again, or browse ");
    }
    const lists = [["Reports", "reports/index.html"], ["Lessons", "lessons/index.html"], ["Actions", "actions/index.html"]];
    lists.forEach(([label, path], i) => {
      const link = el("a", null, label);
      link.href = ROOT + path;
      help.appendChild(link);
      help.append(i === lists.length - 2 ? " and " : i === lists.length - 1 ? "." : ", ");
    });
    box.appendChild(help);
    return box;
  }

  function errorMessage(error) {
    const box = el("div", "search-query-error");
    box.appendChild(el("p", "search-error-message", (error && error.message) || "The query is not valid."));
    if (error && error.help) box.appendChild(el("p", "search-error-help", error.help));
    return box;
  }

  /** What to say about words the engine matched approximately. */
  function fuzzyNote(words) {
    return "No exact match for " + words.map((w) => "“" + w + "”").join(", ") + ": showing words spelled like " + (words.length === 1 ? "it" : "them") + ".";
  }

  function plural(n, one, many) {
    return n === 1 ? one : many || one + "s";
  }

  function debounce(fn, ms) {
    let timer = 0;
    const run = (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
    run.cancel = () => clearTimeout(timer);
    return run;
  }

  /** Whether "/" typed here is text (a text field), not the shortcut. */
  function isEditable(node) {
    if (!node || node === document.body) return false;
    if (node.isContentEditable || node.tagName === "TEXTAREA" || node.tagName === "SELECT") return true;
    if (node.tagName !== "INPUT") return false;
    return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"].includes(node.type);
  }

  // ---------- the header's box: a combobox ----------

  class SearchBox {
    constructor(form) {
      this.form = form;
      this.input = form.querySelector("input[name=q]");
      this.latest = 0;
      this.results = null;
      this.options = [];
      this.active = -1;
      this.slowTimer = 0;
      this.build();
      this.search = debounce(() => this.run(), DEBOUNCE_MS);
    }

    build() {
      const input = this.input;
      const popup = el("div", "site-search-popup");
      popup.id = "site-search-popup";
      popup.hidden = true;
      this.message = el("div", "ss-message");
      this.listbox = el("div", "ss-listbox");
      this.listbox.id = "site-search-listbox";
      this.listbox.setAttribute("role", "listbox");
      this.listbox.setAttribute("aria-label", "Search results");
      this.footer = el("div", "ss-foot");
      this.all = el("a", "ss-all");
      const keys = el("span", "ss-keys");
      keys.setAttribute("aria-hidden", "true");
      for (const [key, what] of [["↑↓", " choose "], ["Enter", " open "], ["Esc", " close"]]) {
        keys.append(el("kbd", null, key), what);
      }
      this.footer.append(this.all, keys);
      popup.append(this.message, this.listbox, this.footer);
      this.popup = popup;
      this.live = el("div", "visually-hidden");
      this.live.setAttribute("role", "status");
      this.form.append(popup, this.live);

      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", this.listbox.id);
      input.setAttribute("aria-haspopup", "listbox");

      input.addEventListener("focus", () => {
        startEngine();
        if (this.results && input.value.trim()) this.open();
      });
      input.addEventListener("input", () => {
        if (!input.value.trim()) {
          this.search.cancel();
          this.latest = 0;
          this.results = null;
          this.form.removeAttribute("aria-busy");
          this.close();
          return;
        }
        // Busy from the keystroke, not from the debounced request: there are results to wait for.
        this.form.setAttribute("aria-busy", "true");
        this.search();
      });
      input.addEventListener("keydown", (event) => this.onKey(event));
      this.form.addEventListener("focusout", (event) => {
        if (!this.form.contains(event.relatedTarget)) this.close();
      });
      // Clicking a result must not blur the input first (the popup would close under the
      // pointer); the link's own click still navigates.
      popup.addEventListener("mousedown", (event) => {
        if (!event.target.closest("a")) event.preventDefault();
      });
      this.listbox.addEventListener("mousemove", (event) => {
        const option = event.target.closest("[role=option]");
        if (option) this.select(this.options.indexOf(option), false);
      });
      this.listbox.addEventListener("click", (event) => {
        const option = event.target.closest("[role=option]");
        if (!option || event.target.closest("a")) return;
        const link = option.querySelector("a.hit-title");
        if (link) link.click();
      });
    }

    onKey(event) {
      if (event.isComposing) return;
      const count = this.options.length;
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp": {
          if (!this.results) return;
          event.preventDefault();
          if (this.popup.hidden) {
            this.open();
            if (this.active >= 0) return;
          }
          if (!count) return;
          const step = event.key === "ArrowDown" ? 1 : -1;
          const next = this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count;
          this.select(next, true);
          return;
        }
        case "Enter": {
          const option = !this.popup.hidden && this.options[this.active];
          const link = option && option.querySelector("a.hit-title");
          if (link) {
            event.preventDefault();
            this.close();
            location.href = link.href;
          }
          // Otherwise the form submits: the search page, with the query.
          return;
        }
        case "Escape":
          if (!this.popup.hidden) {
            event.preventDefault();
            this.close();
          }
          return;
        default:
      }
    }

    run() {
      const text = this.input.value.trim();
      if (!text) return;
      const query = { ...blankQuery(), text, limit: BOX_LIMIT };
      const id = ask(query, (reply) => {
        if (id !== this.latest) return;
        clearTimeout(this.slowTimer);
        this.show(text, reply);
      });
      this.latest = id;
      clearTimeout(this.slowTimer);
      this.slowTimer = setTimeout(() => {
        if (this.latest === id && !this.results) {
          this.showMessage(el("p", "ss-note", "Loading the search index…"));
        }
      }, SLOW_MS);
    }

    show(text, reply) {
      this.form.removeAttribute("aria-busy");
      this.results = reply;
      this.options = [];
      this.active = -1;
      this.input.removeAttribute("aria-activedescendant");
      this.listbox.replaceChildren();
      this.message.replaceChildren();
      this.footer.hidden = true;
      if (reply.unavailable) {
        this.message.appendChild(unavailableMessage());
        this.live.textContent = (unavailable && unavailable.message) || "";
        this.open();
        return;
      }
      if (!reply.ok) {
        this.message.appendChild(errorMessage(reply.error));
        this.live.textContent = (reply.error && reply.error.message) || "";
        this.open();
        return;
      }
      const { total, hits, fuzzy } = reply.results;
      if (Array.isArray(fuzzy) && fuzzy.length) {
        this.message.appendChild(el("p", "ss-note", fuzzyNote(fuzzy)));
      }
      if (!hits.length) {
        this.message.appendChild(el("p", "ss-note", "No results for “" + text + "”."));
      }
      // Grouped by kind, the groups in the order of their best hit.
      const groups = new Map();
      for (const hit of hits) {
        if (!groups.has(hit.kind)) groups.set(hit.kind, []);
        groups.get(hit.kind).push(hit);
      }
      for (const [kind, list] of groups) {
        const group = el("div", "ss-group");
        group.setAttribute("role", "group");
        const label = el("div", "ss-group-label", KIND_GROUPS[kind] || kind);
        label.id = "ss-group-" + String(kind).replace(/[^a-z]/g, "");
        label.setAttribute("role", "presentation");
        group.setAttribute("aria-labelledby", label.id);
        group.appendChild(label);
        for (const hit of list) group.appendChild(this.option(hit));
        this.listbox.appendChild(group);
      }
      this.footer.hidden = false;
      this.all.textContent = "See all " + total + " " + plural(total, "result");
      this.all.href = SEARCH_PAGE + "?q=" + encodeURIComponent(text);
      this.live.textContent = total + " " + plural(total, "result") + " for " + text;
      this.open();
    }

    option(hit) {
      const option = el("div", "ss-option");
      option.id = "ss-option-" + this.options.length;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.kind = hit.kind;
      const { title, snippet, meta } = hitParts(hit, { inert: true, compact: true, maxServices: 3 });
      option.append(title);
      if (snippet) option.append(snippet);
      option.append(meta);
      this.options.push(option);
      return option;
    }

    showMessage(node) {
      this.message.replaceChildren(node);
      this.open();
    }

    select(index, scroll) {
      if (index === this.active || index < 0) return;
      const old = this.options[this.active];
      if (old) old.setAttribute("aria-selected", "false");
      this.active = index;
      const option = this.options[index];
      option.setAttribute("aria-selected", "true");
      this.input.setAttribute("aria-activedescendant", option.id);
      if (scroll) option.scrollIntoView({ block: "nearest" });
    }

    open() {
      this.popup.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    }

    close() {
      this.popup.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
      this.input.removeAttribute("aria-activedescendant");
      const old = this.options[this.active];
      if (old) old.setAttribute("aria-selected", "false");
      this.active = -1;
    }
  }

  // ---------- the search page ----------

  /** URL parameter → the query field it fills; repeatable except `year`. */
  const FACETS = [
    { param: "kind", field: "kinds", legend: "Kind" },
    { param: "severity", field: "severities", legend: "Severity" },
    { param: "service", field: "services", legend: "Service" },
    { param: "tag", field: "tags", legend: "Tag" },
    { param: "team", field: "teams", legend: "Team" },
    { param: "year", field: null, legend: "Year" },
  ];
  /** Facet values shown before "Show all". */
  const FACET_SHOWN = 8;

  function readState(search) {
    const params = new URLSearchParams(search);
    const state = { q: params.get("q") || "", open: params.get("open") === "1", sort: params.get("sort") === "date" ? "date" : "relevance" };
    for (const facet of FACETS) {
      const values = [...new Set(params.getAll(facet.param).filter(Boolean))];
      state[facet.param] = facet.param === "year" ? values.filter((y) => /^\d{4}$/.test(y)).slice(0, 1) : values;
    }
    return state;
  }

  /** How many filters are set, for the narrow screen's "Filters" button. */
  function filterCount(state) {
    return FACETS.reduce((n, facet) => n + state[facet.param].length, 0) + (state.open ? 1 : 0) + (state.sort === "date" ? 1 : 0);
  }

  function stateToParams(state) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    for (const facet of FACETS) for (const value of state[facet.param]) params.append(facet.param, value);
    if (state.open) params.set("open", "1");
    if (state.sort === "date") params.set("sort", "date");
    return params;
  }

  function stateToQuery(state, limit) {
    const query = { ...blankQuery(), text: state.q, sort: state.sort, open: state.open, limit, facets: true };
    for (const facet of FACETS) if (facet.field) query[facet.field] = state[facet.param].slice();
    const year = state.year[0];
    if (year) {
      query.since = year + "-01-01";
      query.until = year + "-12-31";
    }
    return query;
  }

  class SearchPage {
    constructor(form) {
      this.form = form;
      this.input = form.querySelector("#search-q");
      this.sort = form.querySelector("#search-sort");
      this.openOnly = form.querySelector("#search-open");
      this.facets = form.querySelector("#search-facets");
      this.status = form.querySelector("#search-status");
      this.hits = form.querySelector("#search-hits");
      this.more = form.querySelector("#search-more");
      this.error = form.querySelector("#search-error");
      this.filters = form.querySelector("#search-filters");
      this.filtersToggle = form.querySelector("#search-filters-toggle");
      this.expanded = new Set();
      this.generation = 0;
      this.limit = PAGE_LIMIT;
      this.shown = null;
      this.facetCounts = null;
      this.state = readState(location.search);
      this.search = debounce(() => this.run(), DEBOUNCE_MS);

      this.title = document.title;
      this.input.value = this.state.q;
      this.sort.value = this.state.sort;
      this.openOnly.checked = this.state.open;
      form.hidden = false;

      this.input.addEventListener("input", () => {
        this.state.q = this.input.value;
        this.changed(false);
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.state.q = this.input.value;
        this.changed(true);
      });
      form.addEventListener("change", (event) => {
        const target = event.target;
        if (target === this.input) return;
        if (target === this.sort) this.state.sort = target.value === "date" ? "date" : "relevance";
        else if (target === this.openOnly) this.state.open = target.checked;
        else if (target.dataset.facet) this.toggle(target.dataset.facet, target.value, target.checked);
        else return;
        this.changed(true);
      });
      // On a narrow screen the filters fold away behind a button, above the results.
      if (this.filtersToggle && this.filters) {
        this.filtersToggle.addEventListener("click", () => {
          const open = this.filtersToggle.getAttribute("aria-expanded") !== "true";
          this.filtersToggle.setAttribute("aria-expanded", String(open));
          this.filters.classList.toggle("is-open", open);
        });
      }
      this.more.addEventListener("click", () => {
        this.limit += PAGE_LIMIT;
        this.run({ more: true, focusFrom: this.hits.children.length });
      });
      if (!this.state.q) this.input.focus();
      this.countFilters();
      this.retitle();
      this.run();
    }

    toggle(param, value, on) {
      if (param === "year") {
        this.state.year = on && value ? [value] : [];
        return;
      }
      const values = this.state[param].filter((v) => v !== value);
      if (on) values.push(value);
      this.state[param] = values;
    }

    /** The query or a filter changed: back to the first page of results, and the URL. */
    changed(now) {
      this.limit = PAGE_LIMIT;
      this.countFilters();
      this.form.setAttribute("aria-busy", "true");
      const params = stateToParams(this.state).toString();
      history.replaceState(history.state, "", params ? "?" + params : location.pathname);
      this.retitle();
      if (now) {
        this.search.cancel();
        this.run();
      } else {
        this.search();
      }
    }

    /** The query in the tab's title, as in the history and bookmarks. */
    retitle() {
      const q = this.state.q.trim();
      document.title = q ? "“" + q + "” · " + this.title : this.title;
    }

    countFilters() {
      const n = filterCount(this.state);
      if (this.filtersToggle) this.filtersToggle.textContent = n ? "Filters (" + n + ")" : "Filters";
    }

    /** Asks for the results of the current state. The engine counts the values of the
        documents that match every filter; a field with values selected is counted again
        without its own filter, so that its other values keep their counts and can be added
        (values of one field are alternatives). Only the answers to the latest state are shown. */
    run(options = {}) {
      const query = stateToQuery(this.state, this.limit);
      // "Show more" is the same search further down: the counts have not changed.
      if (options.more) query.facets = false;
      const requests = [query];
      const recounted = [];
      if (query.facets) {
        for (const facet of FACETS) {
          if (!this.state[facet.param].length) continue;
          requests.push(stateToQuery({ ...this.state, [facet.param]: [] }, 1));
          recounted.push(facet.param);
        }
      }
      const generation = ++this.generation;
      const replies = [];
      let waitingFor = requests.length;
      requests.forEach((request, i) => {
        ask(request, (reply) => {
          replies[i] = reply;
          waitingFor -= 1;
          if (waitingFor > 0 || generation !== this.generation) return;
          const [main, ...others] = replies;
          let facets = main.ok ? main.results.facets : null;
          if (facets) {
            facets = { ...facets };
            recounted.forEach((param, j) => {
              const counts = others[j].ok && others[j].results.facets && others[j].results.facets[param];
              if (counts) facets[param] = counts;
            });
          }
          this.show(query, main, facets, options);
        });
      });
      this.form.setAttribute("aria-busy", "true");
      setTimeout(() => {
        if (generation === this.generation && !this.shown) this.status.textContent = "Loading the search index…";
      }, SLOW_MS);
    }

    show(query, reply, facets, options) {
      this.form.removeAttribute("aria-busy");
      this.shown = reply;
      this.error.hidden = true;
      this.error.replaceChildren();
      if (reply.unavailable) {
        this.status.replaceChildren(unavailableMessage());
        this.hits.replaceChildren();
        this.facets.replaceChildren();
        this.more.hidden = true;
        return;
      }
      if (!reply.ok) {
        // The query has an error: say so under the box and keep the last results.
        this.error.appendChild(errorMessage(reply.error));
        this.error.hidden = false;
        return;
      }
      const { total, hits, fuzzy } = reply.results;
      this.renderStatus(query, total, hits.length, fuzzy, reply.ms);
      if (query.facets) {
        this.facetCounts = facets;
        this.renderFacets(facets);
      }
      const list = hits.map((hit) => this.hitItem(hit));
      this.hits.replaceChildren(...list);
      this.more.hidden = hits.length >= total;
      if (options.focusFrom != null) {
        const first = list[options.focusFrom];
        const link = first && first.querySelector("a");
        if (link) link.focus();
      }
    }

    renderStatus(query, total, shown, fuzzy, ms) {
      const line = el("p", "search-count");
      const hasFilters = FACETS.some((f) => this.state[f.param].length) || this.state.open;
      if (!total) {
        line.textContent = query.text.trim() || hasFilters ? "No results." : "Nothing to search yet: the site has no reports.";
      } else {
        const count = el("strong", null, total.toLocaleString("en") + " " + plural(total, "result"));
        line.append(count);
        if (shown < total) line.append(", showing the first " + shown);
        if (!query.text.trim()) line.append(hasFilters ? ", newest first" : ": everything, newest first");
        else if (query.sort === "date") line.append(", newest first");
        line.append(".");
        if (typeof ms === "number") line.appendChild(el("span", "search-time", " " + Math.max(1, Math.round(ms)) + " ms"));
      }
      const nodes = [line];
      if (Array.isArray(fuzzy) && fuzzy.length) {
        nodes.push(el("p", "search-fuzzy", fuzzyNote(fuzzy)));
      }
      if (!total && query.text.trim()) {
        nodes.push(el("p", "search-tip", hasFilters ? "Try removing a filter, or fewer words." : "Try other words, or fewer of them."));
      }
      this.status.replaceChildren(...nodes);
    }

    renderFacets(facets) {
      // Keep focus on the checkbox the user just used, across the re-render.
      const focused = document.activeElement;
      const focusKey = focused && focused.dataset && focused.dataset.facet ? focused.dataset.facet + "\u0000" + focused.value : null;
      const groups = [];
      for (const facet of FACETS) {
        const counts = (facets && Array.isArray(facets[facet.param]) ? facets[facet.param] : []).map(([value, count]) => [String(value), count]);
        const selected = this.state[facet.param];
        // A selected value stays listed, so it can be unselected, even with no results.
        for (const value of selected) if (!counts.some(([v]) => v === value)) counts.push([value, 0]);
        if (facet.param === "year") counts.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
        if (!counts.length) continue;
        groups.push(this.facetGroup(facet, counts, selected));
      }
      this.facets.replaceChildren(...groups);
      if (focusKey) {
        const again = [...this.facets.querySelectorAll("input[data-facet]")].find((i) => i.dataset.facet + "\u0000" + i.value === focusKey);
        if (again) again.focus();
      }
    }

    facetGroup(facet, counts, selected) {
      const fieldset = el("fieldset", "facet facet-" + facet.param);
      fieldset.appendChild(el("legend", "facet-legend", facet.legend));
      const list = el("ul", "facet-list");
      const single = facet.param === "year";
      const expanded = this.expanded.has(facet.param);
      const entries = single ? [["", null], ...counts] : counts;
      entries.forEach(([value, count], i) => {
        const item = el("li", "facet-item");
        const label = el("label", "facet-option");
        const input = document.createElement("input");
        input.type = single ? "radio" : "checkbox";
        input.name = facet.param;
        input.value = value;
        input.dataset.facet = facet.param;
        input.checked = single ? (value ? selected.includes(value) : !selected.length) : selected.includes(value);
        const name = el("span", "facet-name", value ? (facet.param === "kind" ? KIND_GROUPS[value] || value : value) : "Any year");
        label.append(input, name);
        if (count != null) label.appendChild(el("span", "count", count));
        if (facet.param === "severity" && value) {
          const dot = el("span", "sev-dot");
          dot.dataset.severity = value;
          dot.dataset.rank = SEVERITY_RANKS.get(value) || "0";
          name.prepend(dot);
        }
        item.appendChild(label);
        const shown = single ? i <= FACET_SHOWN : i < FACET_SHOWN;
        if (!shown && !expanded && !input.checked) item.hidden = true;
        list.appendChild(item);
      });
      fieldset.appendChild(list);
      const hidden = list.querySelectorAll("li[hidden]").length;
      if (hidden || expanded) {
        const toggle = el("button", "facet-more", expanded ? "Show fewer" : "Show all " + entries.length);
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", String(expanded));
        toggle.addEventListener("click", () => {
          if (this.expanded.has(facet.param)) this.expanded.delete(facet.param);
          else this.expanded.add(facet.param);
          this.renderFacets(this.facetCounts);
          const again = this.facets.querySelector(".facet-" + facet.param + " .facet-more");
          if (again) again.focus();
        });
        fieldset.appendChild(toggle);
      }
      return fieldset;
    }

    hitItem(hit) {
      const item = el("li", "search-hit");
      item.dataset.kind = hit.kind;
      const head = el("div", "hit-head");
      head.appendChild(el("span", "hit-kind", KIND_LABELS[hit.kind] || hit.kind));
      const { title, snippet, meta } = hitParts(hit, { inert: false, compact: false });
      head.appendChild(title);
      item.appendChild(head);
      if (snippet) item.appendChild(snippet);
      item.appendChild(meta);
      return item;
    }
  }

  // ---------- start ----------

  function focusShortcut(event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (isEditable(event.target)) return;
    const input = document.querySelector("#search-q") || document.querySelector(".site-search input[name=q]");
    if (!input || input.offsetParent === null) return;
    event.preventDefault();
    input.focus();
    input.select();
  }

  function init() {
    const page = document.getElementById("search-page");
    if (page) {
      startEngine();
      new SearchPage(page);
    }
    for (const form of document.querySelectorAll("form.site-search")) new SearchBox(form);
    document.addEventListener("keydown", focusShortcut);
  }

  window.RollbookSearch = Object.freeze({ decodeEntities, appendHighlighted, safeHref, root: ROOT });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
