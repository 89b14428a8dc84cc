// The sandbox page: plain JavaScript over the sandbox's JSON API (see server.py).
"use strict";

const $ = (selector) => document.querySelector(selector);
const OPTION_TYPES = { STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, CHANNEL: 7, ROLE: 8, MENTIONABLE: 9, NUMBER: 10, ATTACHMENT: 11 };

const view = {
  state: null,          // the last /api/state answer
  actingAs: null,       // member id
  channel: null,        // channel id shown (a text channel or the DM)
  command: null,        // the command chosen in the command box
  focused: null,        // the autocomplete input being typed into
  modal: null,          // the open modal
  seen: {},             // channel id -> number of messages seen, for unread marks
};

// -- talking to the server ------------------------------------------------------------------------
async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok || data.error) throw new Error(data.error || response.statusText);
  return data;
}

async function refresh() {
  const query = view.actingAs ? `?as=${view.actingAs}` : "";
  const state = await api(`/api/state${query}`);
  const text = JSON.stringify(state);
  if (text === view.lastText && view.channel) return; // nothing new: keep the page as it is
  view.lastText = text;
  view.state = state;
  view.actingAs = state.as.id;
  if (!view.channel) view.channel = state.channels[0].id;
  render();
}

let refreshing = null;
function scheduleRefresh() {
  if (refreshing) return;
  refreshing = setTimeout(() => { refreshing = null; refresh().catch(showError); }, 60);
}

function connectLive() {
  const ws = new WebSocket(`ws://${location.host}/api/live`);
  ws.onmessage = () => scheduleRefresh();
  ws.onclose = () => setTimeout(connectLive, 1000);
}

function showError(error) {
  const notice = $("#notice");
  notice.textContent = error.message || String(error);
  notice.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { notice.hidden = true; }, 8000);
}

// -- rendering ------------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "html") node.innerHTML = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Discord's markdown, the part the bot uses: bold, italic, strike, code, links, mentions, times.
function markdown(text) {
  const names = view.state.names;
  let html = escapeHtml(text || "");
  html = html.replace(/```([\s\S]*?)```/g, (_, code) => `<code>${code}</code>`);
  html = html.replace(/`([^`]+)`/g, "<code>$1</code>");
  html = html.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
  html = html.replace(/__(.+?)__/g, "<u>$1</u>");
  html = html.replace(/(^|[^\w*])\*(?!\s)(.+?)\*(?!\w)/g, "$1<em>$2</em>");
  html = html.replace(/(^|\W)_(?!\s)(.+?)_(?!\w)/g, "$1<em>$2</em>");
  html = html.replace(/~~(.+?)~~/g, "<s>$1</s>");
  html = html.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
  html = html.replace(/&lt;@!?(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(names.users[id] || "unknown")}</span>`);
  html = html.replace(/&lt;#(\d+)&gt;/g, (_, id) => `<span class="mention">#${escapeHtml(names.channels[id] || "unknown")}</span>`);
  html = html.replace(/&lt;@&amp;(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(names.roles[id] || "role")}</span>`);
  html = html.replace(/&lt;t:(-?\d+)(?::([a-zA-Z]))?&gt;/g, (_, secs) => escapeHtml(new Date(Number(secs) * 1000).toLocaleString()));
  html = html.replace(/&lt;\/([\w -]+):\d+&gt;/g, "<code>/$1</code>");
  return html;
}

function render() {
  const state = view.state;
  $("#guild-name").textContent = state.guild.name;
  renderPicker(state);
  renderChannels(state);
  renderChecklist(state);
  renderClock(state);
  renderMessages(state);
}

function renderPicker(state) {
  const picker = $("#member-picker");
  const wanted = state.members.map((m) => `${m.id}:${m.name}`).join(",");
  if (picker.dataset.members !== wanted) {
    picker.replaceChildren(...state.members.map((m) =>
      el("option", { value: m.id }, m.moderator ? `${m.name} (moderator)` : m.name)));
    picker.dataset.members = wanted;
  }
  picker.value = state.as.id;
}

function visibleIn(channelId) {
  return view.state.messages.filter((m) => m.channel_id === channelId);
}

function channelItem(id, label) {
  const count = visibleIn(id).length;
  if (id === view.channel) view.seen[id] = count;
  const unread = count - (view.seen[id] || 0);
  return el("li", {
    class: `channel${id === view.channel ? " active" : ""}`, "data-channel": id,
    onclick: () => { view.channel = id; render(); },
  }, label, unread > 0 ? el("span", { class: "unread" }, unread) : null);
}

function renderChannels(state) {
  $("#channels").replaceChildren(...state.channels.map((c) => channelItem(c.id, `# ${c.name}`)));
  $("#dms").replaceChildren(channelItem(state.dm_channel, `@ ${state.bot.name}`));
  const channel = state.channels.find((c) => c.id === view.channel);
  $("#channel-title").textContent = channel ? `# ${channel.name}` : `@ ${state.bot.name} (direct messages)`;
}

function renderChecklist(state) {
  $("#checklist").replaceChildren(...state.checklist.map((item) =>
    el("li", { class: item.done ? "done" : "", "data-key": item.key, "data-done": String(item.done) },
      el("span", { class: "label" }, item.label), el("span", { class: "hint" }, item.hint))));
}

function formatTime(iso) {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC";
}

function renderClock(state) {
  const clock = state.clock;
  $("#clock-now").textContent = clock.now ? `Bot time: ${formatTime(clock.now)}` : "Bot time: starting…";
  const next = clock.upcoming[0];
  $("#jump-next").disabled = !next;
  $("#clock-next").textContent = next ? `next: ${next.kind} · ${formatTime(next.next_fire)}` : "nothing scheduled yet";
}

function renderMessages(state) {
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const messages = visibleIn(view.channel);
  box.replaceChildren(...messages.map(renderMessage));
  if (!messages.length) box.append(el("p", { class: "used" }, "No messages here yet."));
  if (atBottom || !box.dataset.channel || box.dataset.channel !== view.channel) box.scrollTop = box.scrollHeight;
  box.dataset.channel = view.channel;
}

function renderMessage(message) {
  const byFilename = Object.fromEntries(message.attachments.map((a) => [a.filename, a]));
  const shownInEmbeds = new Set();
  const embeds = message.embeds.map((embed) => renderEmbed(embed, byFilename, shownInEmbeds));
  const files = message.attachments.filter((a) => !shownInEmbeds.has(a.filename)).map(renderAttachment);
  return el("article", { class: `message${message.ephemeral ? " ephemeral" : ""}`, "data-message": message.id },
    message.interaction ? el("div", { class: "used" }, `${message.interaction.user} used /${message.interaction.name}`) : null,
    el("div", { class: "head" },
      el("span", { class: "author" }, message.author.name),
      message.author.bot ? el("span", { class: "badge" }, "APP") : null,
      el("span", { class: "time" }, new Date(message.created_at).toLocaleTimeString()),
      message.edited ? el("span", { class: "time" }, "(edited)") : null),
    message.loading ? el("div", { class: "thinking" }, `${message.author.name} is thinking…`) : null,
    message.content ? el("div", { class: "content", html: markdown(message.content) }) : null,
    embeds, files,
    renderComponents(message),
    message.ephemeral ? el("div", { class: "ephemeral-note" }, "👁 Only you can see this") : null);
}

function renderEmbed(embed, byFilename, shown) {
  const image = embed.image && imageUrl(embed.image.url, byFilename, shown);
  const thumb = embed.thumbnail && imageUrl(embed.thumbnail.url, byFilename, shown);
  const color = embed.color !== undefined && embed.color !== null ? `#${embed.color.toString(16).padStart(6, "0")}` : null;
  return el("div", { class: "embed", style: color ? `border-left-color: ${color}` : null },
    embed.author ? el("div", { class: "footer" }, embed.author.name) : null,
    embed.title ? el("div", { class: "title", html: markdown(embed.title) }) : null,
    embed.description ? el("div", { class: "content", html: markdown(embed.description) }) : null,
    embed.fields && embed.fields.length ? el("div", { class: "fields" }, embed.fields.map((f) =>
      el("div", { class: `field${f.inline ? "" : " wide"}` },
        el("div", { class: "name", html: markdown(f.name) }), el("div", { class: "content", html: markdown(f.value) })))) : null,
    thumb ? el("img", { src: thumb, alt: "", class: "chart" }) : null,
    image ? el("img", { src: image, alt: embed.title || "chart", class: "chart" }) : null,
    embed.footer ? el("div", { class: "footer" }, embed.footer.text) : null);
}

function imageUrl(url, byFilename, shown) {
  if (!url) return null;
  if (url.startsWith("attachment://")) {
    const name = url.slice("attachment://".length);
    const attachment = byFilename[name];
    if (!attachment) return null;
    shown.add(name);
    return attachment.url;
  }
  return null; // nothing is fetched from outside this machine
}

function renderAttachment(attachment) {
  if (attachment.content_type.startsWith("image/")) {
    return el("div", { class: "attachment" }, el("img", { src: attachment.url, alt: attachment.filename, class: "chart" }));
  }
  return el("div", { class: "attachment" },
    el("a", { href: attachment.url, download: attachment.filename }, `📎 ${attachment.filename}`),
    el("span", { class: "used" }, ` ${Math.ceil(attachment.size / 1024)} KB`));
}

function renderComponents(message) {
  if (!message.components.length) return null;
  return el("div", { class: "components" }, message.components.map((row) =>
    el("div", { class: "row" }, (row.components || []).map((c) => renderComponent(message, c)))));
}

function renderComponent(message, component) {
  if (component.type === 2) {
    const label = `${component.emoji && component.emoji.name ? component.emoji.name + " " : ""}${component.label || ""}`;
    if (component.style === 5) {
      return el("a", { class: "button style-5", href: component.url, target: "_blank", rel: "noopener" }, label);
    }
    return el("button", {
      type: "button", class: `style-${component.style}`, disabled: component.disabled,
      "data-label": component.label || "", "data-custom-id": component.custom_id,
      onclick: () => interact("/api/click", { message: message.id, custom_id: component.custom_id }),
    }, label);
  }
  if (component.type === 3) {
    const select = el("select", { "data-custom-id": component.custom_id, multiple: (component.max_values || 1) > 1 },
      el("option", { value: "", disabled: true, selected: true }, component.placeholder || "Make a selection"),
      (component.options || []).map((o) => el("option", { value: o.value }, o.label)));
    select.addEventListener("change", () => {
      const values = Array.from(select.selectedOptions).map((o) => o.value).filter(Boolean);
      if ((component.max_values || 1) === 1) interact("/api/select", { message: message.id, custom_id: component.custom_id, values });
    });
    const wrap = el("span", {}, select);
    if ((component.max_values || 1) > 1) {
      wrap.append(el("button", { type: "button", class: "secondary", onclick: () => {
        const values = Array.from(select.selectedOptions).map((o) => o.value).filter(Boolean);
        interact("/api/select", { message: message.id, custom_id: component.custom_id, values });
      } }, "Choose"));
    }
    return wrap;
  }
  return null;
}

// -- acting ---------------------------------------------------------------------------------------
async function interact(path, body) {
  try {
    const answer = await api(path, { as: view.actingAs, ...body });
    if (answer.modal) openModal(answer.modal);
    await refresh();
    return answer;
  } catch (error) {
    showError(error);
    return null;
  }
}

// -- the command box ------------------------------------------------------------------------------
function commandMatches(typed) {
  const words = typed.replace(/^\//, "").trim().toLowerCase();
  return view.state.commands.filter((c) => c.name.startsWith(words) || (words && c.name.includes(words)));
}

function showCommandSuggestions() {
  const input = $("#command-input");
  const box = $("#command-suggestions");
  if (view.command || !input.value.startsWith("/")) { box.hidden = true; return; }
  const matches = commandMatches(input.value).slice(0, 25);
  box.replaceChildren(el("h3", {}, "Commands"), ...matches.map((c) =>
    el("div", { class: "item", "data-command": c.name, onmousedown: (e) => { e.preventDefault(); chooseCommand(c); } },
      `/${c.name}`, el("small", {}, c.description))));
  if (!matches.length) box.append(el("div", { class: "used" }, `No command you can use starts with ${input.value}.`));
  box.hidden = false;
}

function chooseCommand(command) {
  view.command = command;
  $("#command-input").value = `/${command.name}`;
  $("#command-suggestions").hidden = true;
  renderOptions();
  const first = $("#options .option-input");
  if (first) first.focus();
}

function clearCommand() {
  view.command = null;
  $("#command-input").value = "";
  $("#options").replaceChildren();
  $("#choices").hidden = true;
}

function optionInput(option) {
  const attrs = { class: "option-input", "data-option": option.name, "data-type": option.type, name: option.name };
  const state = view.state;
  if (option.choices && option.choices.length) {
    return el("select", attrs, el("option", { value: "" }, "—"),
      option.choices.map((c) => el("option", { value: c.value }, c.name)));
  }
  switch (option.type) {
    case OPTION_TYPES.BOOLEAN:
      return el("select", attrs, el("option", { value: "" }, "—"), el("option", { value: "true" }, "True"), el("option", { value: "false" }, "False"));
    case OPTION_TYPES.CHANNEL:
      return el("select", attrs, el("option", { value: "" }, "—"), state.channels.map((c) => el("option", { value: c.id }, `#${c.name}`)));
    case OPTION_TYPES.USER:
    case OPTION_TYPES.MENTIONABLE:
      return el("select", attrs, el("option", { value: "" }, "—"), state.members.map((m) => el("option", { value: m.id }, m.name)));
    case OPTION_TYPES.ROLE:
      return el("select", attrs, el("option", { value: "" }, "—"), state.roles.map((r) => el("option", { value: r.id }, r.name)));
    case OPTION_TYPES.ATTACHMENT:
      return el("input", { ...attrs, type: "file" });
    default: {
      const input = el("input", { ...attrs, type: "text", placeholder: option.description || "",
        maxlength: option.max_length, inputmode: option.type === OPTION_TYPES.STRING ? null : "decimal" });
      if (option.autocomplete) {
        input.dataset.autocomplete = "true";
        input.addEventListener("input", () => autocompleteSoon(option, input));
        input.addEventListener("focus", () => autocompleteSoon(option, input));
        input.addEventListener("blur", () => setTimeout(() => {
          if (view.focused === input && document.activeElement !== input) $("#choices").hidden = true;
        }, 150));
      }
      return input;
    }
  }
}

function renderOptions() {
  const options = (view.command && view.command.options) || [];
  $("#options").replaceChildren(...options.map((option) =>
    el("label", { class: `option${option.required ? " required" : ""}`, title: option.description || "" },
      el("span", {}, option.name), optionInput(option))));
}

async function optionValues(skipFiles) {
  const values = {};
  for (const input of document.querySelectorAll("#options .option-input")) {
    if (input.type === "file") {
      if (skipFiles || !input.files.length) continue;
      const file = input.files[0];
      const data = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
        reader.readAsDataURL(file);
      });
      values[input.dataset.option] = { filename: file.name, data };
    } else if (input.value !== "") {
      values[input.dataset.option] = input.value;
    }
  }
  return values;
}

let autocompleteTimer = null;
function autocompleteSoon(option, input) {
  view.focused = input;
  clearTimeout(autocompleteTimer);
  autocompleteTimer = setTimeout(() => autocomplete(option, input), 150);
}

async function autocomplete(option, input) {
  const box = $("#choices");
  try {
    const answer = await api("/api/autocomplete", {
      as: view.actingAs, channel: view.channel, command: view.command.name,
      option: option.name, typed: input.value, options: await optionValues(true),
    });
    if (view.focused !== input) return;
    box.replaceChildren(el("h3", {}, `${option.name}: suggestions from the bot`), ...answer.choices.map((choice) =>
      el("div", { class: "item autocomplete-choice", "data-value": String(choice.value),
        onmousedown: (e) => { e.preventDefault(); input.value = String(choice.value); input.dataset.chosen = choice.name; box.hidden = true; } },
      choice.name)));
    if (!answer.choices.length) box.append(el("div", { class: "used" }, "No suggestions."));
    box.hidden = false;
  } catch (error) {
    showError(error);
  }
}

async function sendCommand(event) {
  event.preventDefault();
  const typed = $("#command-input").value.trim();
  if (!view.command) {
    const exact = view.state.commands.find((c) => `/${c.name}` === typed || c.name === typed);
    if (!exact) { showError(new Error("Choose a command from the list (type / to see them).")); return; }
    chooseCommand(exact);
    if (exact.options.some((o) => o.required)) return;
  }
  const send = $("#send-command");
  send.disabled = true;
  try {
    const answer = await interact("/api/command", { channel: view.channel, command: view.command.name, options: await optionValues(false) });
    if (answer) clearCommand();
  } finally {
    send.disabled = false;
  }
}

// -- modals ---------------------------------------------------------------------------------------
function openModal(modal) {
  view.modal = modal;
  $("#modal-title").textContent = modal.title;
  $("#modal-error").hidden = true;
  $("#modal-fields").replaceChildren(...modal.fields.map((field) => {
    const attrs = { "data-custom-id": field.custom_id, "data-label": field.label || "", class: "modal-field",
      required: field.required, placeholder: field.placeholder, maxlength: field.max_length, minlength: field.min_length };
    let input;
    if (field.type === 3) {
      input = el("select", attrs, (field.options || []).map((o) => el("option", { value: o.value, selected: o.default }, o.label)));
    } else if (field.style === 2) {
      input = el("textarea", attrs);
      input.value = field.value || "";
    } else {
      input = el("input", { ...attrs, type: "text" });
      input.value = field.value || "";
    }
    return el("div", {}, el("label", {}, field.label || field.custom_id, field.required ? " *" : ""), input);
  }));
  $("#modal-backdrop").hidden = false;
  const first = $("#modal-fields .modal-field");
  if (first) first.focus();
}

function closeModal() {
  view.modal = null;
  $("#modal-backdrop").hidden = true;
}

async function submitModal(event) {
  event.preventDefault();
  const values = {};
  for (const input of document.querySelectorAll("#modal-fields .modal-field")) {
    values[input.dataset.customId] = input.tagName === "SELECT" ? [input.value] : input.value;
  }
  try {
    const answer = await api("/api/modal", { as: view.actingAs, modal: view.modal.id, values });
    closeModal();
    if (answer.modal) openModal(answer.modal);
    await refresh();
  } catch (error) {
    $("#modal-error").textContent = error.message;
    $("#modal-error").hidden = false;
  }
}

// -- wiring ---------------------------------------------------------------------------------------
function wire() {
  $("#member-picker").addEventListener("change", (event) => {
    view.actingAs = event.target.value;
    clearCommand();
    refresh().catch(showError);
  });
  const input = $("#command-input");
  input.addEventListener("input", () => {
    if (view.command && input.value !== `/${view.command.name}`) {
      view.command = null;
      $("#options").replaceChildren();
    }
    showCommandSuggestions();
  });
  input.addEventListener("focus", showCommandSuggestions);
  input.addEventListener("blur", () => setTimeout(() => {
    if (document.activeElement !== input) $("#command-suggestions").hidden = true;
  }, 150));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && !view.command) {
      const first = commandMatches(input.value)[0];
      if (first) { event.preventDefault(); chooseCommand(first); }
    }
    if (event.key === "Escape") clearCommand();
  });
  $("#command-box").addEventListener("submit", sendCommand);
  $("#modal").addEventListener("submit", submitModal);
  $("#modal-cancel").addEventListener("click", closeModal);
  $("#jump-next").addEventListener("click", async () => {
    const button = $("#jump-next");
    button.disabled = true;
    try {
      const answer = await api("/api/clock/jump", {});
      await refresh();
      if (!answer.fired) showError(new Error("Nothing was due at that time."));
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = !(view.state && view.state.clock.upcoming.length);
    }
  });
}

wire();
refresh().then(connectLive).catch(showError);
