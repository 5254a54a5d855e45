// The segment builder: a form that builds a segment definition (docs/segments.md) and shows the audience
// size live through POST /api/v1/segments/preview. Plain DOM, no build step: the page must keep working
// on an air-gapped install.
"use strict";

const EVENT_TYPES = ["opened", "clicked", "delivered", "bounced", "complained", "unsubscribed", "accepted",
  "deferred", "rejected", "failed", "resubscribed"];
const OPS = ["eq", "neq", "lt", "lte", "gt", "gte", "between", "in", "not_in", "contains", "starts_with",
  "exists", "not_exists"];
const YES_NO = [{ value: "true", label: "yes" }, { value: "false", label: "no" }];
// These take true or false in the definition itself, so their yes/no select is the negation: an Exclude box
// beside it would only allow double negatives.
const YES_NO_KINDS = new Set(["opted_out", "suppressed"]);
const DEBOUNCE_MS = 250;

let previewSeq = 0;
let previewTimer = null;
let savedSegments = [];
let categories = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function labelled(text, control) {
  const id = "f" + Math.random().toString(36).slice(2);
  control.id = id;
  return [el("label", { for: id }, text), control];
}

function select(name, options, value) {
  const s = el("select", { name });
  for (const o of options) {
    const opt = el("option", { value: o.value ?? o }, o.label ?? o);
    if ((o.value ?? o) === value) opt.selected = true;
    s.append(opt);
  }
  return s;
}

function typed(text, kind) {
  if (kind === "number") return Number(text);
  if (kind === "boolean") return text.trim().toLowerCase() === "true";
  return text;
}

// Refilled when the categories arrive, which may be after the row was added; a choice still offered is kept.
function categoryOptions(s) {
  const current = s.value;
  s.replaceChildren(el("option", { value: "" }, categories.length ? "choose a category" : "no categories defined"),
    ...categories.map((c) => el("option", { value: c.key }, `${c.name} (${c.key})`)));
  s.value = categories.some((c) => c.key === current) ? current : "";
  return s;
}

// -- condition rows -------------------------------------------------------------------------------

function conditionRow(kind) {
  const row = el("div", { class: "condition", "data-kind": kind });
  const fields = el("span", { class: "fields" });
  if (!YES_NO_KINDS.has(kind)) {
    const negate = el("input", { type: "checkbox", name: "not" });
    row.append(...labelled("Exclude", negate));
    negate.addEventListener("change", changed);
  }
  row.append(fields);

  if (kind === "tag") {
    fields.append(...labelled("Tag path", el("input", { name: "tag", placeholder: "interests/sports" })));
    fields.append(...labelled("This tag only", el("input", { type: "checkbox", name: "exact" })));
  } else if (kind === "attribute") {
    fields.append(...labelled("Field", el("input", { name: "attribute", placeholder: "plan, email_domain, …" })));
    fields.append(...labelled("Operator", select("op", OPS, "eq")));
    fields.append(...labelled("Value", el("input", { name: "value" })));
    fields.append(...labelled("and", el("input", { name: "value2", placeholder: "(between only)" })));
    fields.append(...labelled("as", select("value_kind", ["text", "number", "date", "boolean"], "text")));
  } else if (kind === "event") {
    fields.append(...labelled("Did", select("event", EVENT_TYPES, "opened")));
    fields.append(...labelled("within days", el("input", { name: "within_days", type: "number", min: "1" })));
    fields.append(...labelled("campaign", el("input", { name: "campaign", placeholder: "any" })));
    fields.append(...labelled("at least", el("input", { name: "min_count", type: "number", min: "1" })));
  } else if (kind === "segment") {
    const options = [{ value: "", label: "choose a segment" },
      ...savedSegments.map((s) => ({ value: s.id, label: s.name }))];
    fields.append(...labelled("Member of", select("segment", options, "")));
  } else if (kind === "subscribed") {
    fields.append(...labelled("Subscribed to category", categoryOptions(el("select", { name: "subscribed" }))));
  } else if (kind === "opted_out") {
    fields.append(...labelled("Opted out (globally)", select("opted_out", YES_NO, "true")));
  } else if (kind === "suppressed") {
    fields.append(...labelled("Suppressed", select("suppressed", YES_NO, "true")));
  }
  row.append(el("button", { type: "button", class: "secondary", "aria-label": "Remove condition",
    onclick: () => { row.remove(); changed(); } }, "Remove"));
  row.addEventListener("input", changed);
  return row;
}

function groupBox(isRoot) {
  const group = el("div", { class: "group", "data-kind": "group" });
  const combinator = select("combinator", [{ value: "and", label: "all of" }, { value: "or", label: "any of" }], "and");
  combinator.addEventListener("change", changed);
  const list = el("div", { class: "conditions" });
  const add = (kind) => () => { list.append(kind === "group" ? groupBox(false) : conditionRow(kind)); changed(); };
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", class: "secondary", onclick: add("tag") }, "+ Tag"),
    el("button", { type: "button", class: "secondary", onclick: add("attribute") }, "+ Field"),
    el("button", { type: "button", class: "secondary", onclick: add("event") }, "+ Activity"),
    el("button", { type: "button", class: "secondary", onclick: add("segment") }, "+ Segment"),
    el("button", { type: "button", class: "secondary", onclick: add("subscribed") }, "+ Subscribed"),
    el("button", { type: "button", class: "secondary", onclick: add("opted_out") }, "+ Opted out"),
    el("button", { type: "button", class: "secondary", onclick: add("suppressed") }, "+ Suppressed"),
    el("button", { type: "button", class: "secondary", onclick: add("group") }, "+ Group"));
  if (!isRoot) {
    actions.append(el("button", { type: "button", class: "secondary", "aria-label": "Remove group",
      onclick: () => { group.remove(); changed(); } }, "Remove group"));
  }
  group.append(...labelled("Match", combinator), list, actions);
  return group;
}

// -- definition from the form ----------------------------------------------------------------------

function field(row, name) {
  const input = row.querySelector(`:scope > .fields [name="${name}"]`);
  if (!input) return undefined;
  return input.type === "checkbox" ? input.checked : input.value.trim();
}

function fromRow(row) {
  const kind = row.dataset.kind;
  let node;
  if (kind === "group") return fromGroup(row);
  if (kind === "tag") {
    node = { tag: field(row, "tag") };
    if (field(row, "exact")) node.exact = true;
  } else if (kind === "attribute") {
    const op = field(row, "op");
    const valueKind = field(row, "value_kind");
    const convert = (t) => typed(t, valueKind);
    node = { attribute: field(row, "attribute"), op };
    if (op === "between") node.value = [convert(field(row, "value")), convert(field(row, "value2"))];
    else if (op === "in" || op === "not_in") node.value = field(row, "value").split(",").map((v) => convert(v.trim()));
    else if (op !== "exists" && op !== "not_exists") node.value = convert(field(row, "value"));
  } else if (kind === "event") {
    node = { event: field(row, "event") };
    for (const [name, numeric] of [["within_days", true], ["campaign", false], ["min_count", true]]) {
      const v = field(row, name);
      if (v) node[name] = numeric ? Number(v) : v;
    }
  } else if (kind === "segment") {
    node = { segment: field(row, "segment") };
  } else if (kind === "subscribed") {
    node = { subscribed: field(row, "subscribed") };
  } else if (YES_NO_KINDS.has(kind)) {
    node = { [kind]: field(row, kind) === "true" };
  }
  const negate = row.querySelector(':scope > input[name="not"]');
  return negate && negate.checked ? { not: node } : node;
}

function fromGroup(group) {
  const rows = [...group.querySelector(":scope > .conditions").children];
  const parts = rows.map(fromRow).filter((p) => p !== null);
  if (parts.length === 0) return null;
  const combinator = group.querySelector(':scope > select[name="combinator"]').value;
  return { [combinator]: parts };
}

function definition() {
  return fromGroup(document.querySelector("#root-group > .group"));
}

// -- talking to the API ----------------------------------------------------------------------------

function apiKey() {
  return document.getElementById("api-key").value.trim();
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${apiKey()}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, payload };
}

function describeError(payload, status) {
  const error = payload.error || {};
  const details = error.details || {};
  const where = details.path ? ` (at ${details.path})` : "";
  return `${error.message || `request failed with status ${status}`}${where}`;
}

function showAudience(state, text) {
  const count = document.getElementById("audience-count");
  count.dataset.state = state;
  count.textContent = text;
}

async function preview() {
  const def = definition();
  document.getElementById("definition-json").textContent = def ? JSON.stringify(def, null, 2) : "";
  const errorBox = document.getElementById("audience-error");
  const sample = document.getElementById("audience-sample");
  if (!def) {
    errorBox.hidden = true;
    sample.replaceChildren();
    showAudience("empty", "Add a condition to see the audience size.");
    return;
  }
  if (!apiKey()) {
    showAudience("empty", "Enter an API key to see the audience size.");
    return;
  }
  const seq = ++previewSeq;
  showAudience("loading", "Counting…");
  const { ok, status, payload } = await api("POST", "/api/v1/segments/preview", { definition: def });
  if (seq !== previewSeq) return; // a newer edit is already being counted
  if (!ok) {
    errorBox.textContent = describeError(payload, status);
    errorBox.hidden = false;
    showAudience("error", "—");
    return;
  }
  errorBox.hidden = true;
  const n = payload.count;
  showAudience("ready", `${n.toLocaleString("en")} ${n === 1 ? "contact" : "contacts"}`);
  sample.replaceChildren(...payload.sample.map((c) => el("li", {}, c.email)));
}

function changed() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, DEBOUNCE_MS);
}

async function save() {
  const status = document.getElementById("save-status");
  const def = definition();
  if (!def) {
    status.textContent = "Add at least one condition first.";
    return;
  }
  const body = {
    name: document.getElementById("segment-name").value,
    description: document.getElementById("segment-description").value,
    definition: def,
  };
  const { ok, status: code, payload } = await api("POST", "/api/v1/segments", body);
  status.textContent = ok ? `Saved “${payload.name}” (${payload.id}).` : `Not saved: ${describeError(payload, code)}`;
  status.dataset.state = ok ? "saved" : "error";
  if (ok) status.dataset.segmentId = payload.id;
}

async function loadSegments() {
  if (!apiKey()) return;
  const { ok, payload } = await api("GET", "/api/v1/segments");
  if (ok) savedSegments = payload;
}

async function loadCategories() {
  if (!apiKey()) return;
  const { ok, payload } = await api("GET", "/api/v1/preference-categories");
  if (!ok) return;
  categories = payload;
  document.querySelectorAll('select[name="subscribed"]').forEach(categoryOptions);
}

function loadLists() {
  return Promise.all([loadSegments(), loadCategories()]);
}

document.addEventListener("DOMContentLoaded", () => {
  const keyInput = document.getElementById("api-key");
  keyInput.value = sessionStorage.getItem("tidings-api-key") || "";
  keyInput.addEventListener("change", async () => {
    sessionStorage.setItem("tidings-api-key", apiKey());
    await loadLists();
    changed();
  });
  document.getElementById("root-group").append(groupBox(true));
  document.getElementById("save").addEventListener("click", save);
  loadLists();
});
