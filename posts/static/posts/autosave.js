/* Autosave of the post form, its offer on reopening, and the warning on leaving.
 *
 * While the editor types, the fields are sent (debounced: 2 s after the last
 * keystroke, at least every 10 s while typing on) to the editor's autosave
 * slot of the post (posts/admin_desk.py). A slot is not a revision: it never
 * changes the post. Reopening the form with a slot offers "Restore" (fills
 * the fields from it) or "Discard" (deletes it); a successful save deletes
 * it on the server. Leaving the page with changes not saved as the post
 * asks first (beforeunload).
 */
"use strict";
(function () {
  const desk = document.getElementById("post-desk");
  if (!desk || !desk.dataset.editable) return;
  const form = desk.closest("form");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const status = document.getElementById("desk-status");
  const FIELDS = ["title", "slug", "excerpt", "body", "tags", "cover_image", "cover_alt", "author", "publish_at",
    "email_subscribers"];
  const DEBOUNCE = 2000;
  const MAX_WAIT = 10000;

  function field(name) {
    const element = form.elements.namedItem(name);
    return element && !element.disabled && element.tagName ? element : null;
  }

  function values() {
    const result = {};
    FIELDS.forEach((name) => {
      const element = field(name);
      if (!element) return;
      result[name] = element.type === "checkbox" ? (element.checked ? "on" : "") : element.value;
    });
    return result;
  }
  const serialise = () => JSON.stringify(values());

  let saved = serialise();  // what the post holds: the form as it opened
  let sent = saved;         // what the slot holds
  let submitting = false;
  let timer = null;
  let firstChange = null;

  function say(text) { if (status) status.textContent = text; }
  function clock(iso) {
    return new Date(iso).toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
  }

  function post(url, data) {
    data.append("post", desk.dataset.post || "");
    return fetch(url, {method: "POST", body: data, credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
      .then((response) => response.json().then((json) => ({ok: response.ok, json})));
  }

  function autosave() {
    clearTimeout(timer);
    timer = null;
    firstChange = null;
    const current = serialise();
    if (submitting || current === sent) return;
    const data = new FormData();
    const fields = JSON.parse(current);
    Object.entries(fields).forEach(([name, value]) => data.append(name, value));
    const zone = document.getElementById("id_editor_tz");
    if (zone) data.append("editor_tz", zone.value);
    if (desk.dataset.version) data.append("base_version", desk.dataset.version);
    post(desk.dataset.autosaveUrl, data).then(({ok, json}) => {
      if (submitting) return;
      if (!ok) throw new Error(json.error || "The draft could not be autosaved.");
      sent = current;
      desk.dataset.autosavedAt = json.saved_at;
      say(`Draft autosaved at ${new Date(json.saved_at).toLocaleTimeString(undefined, {timeStyle: "short"})} (not yet saved to the post).`);
    }).catch((error) => say(`Not autosaved: ${error.message}`));
  }

  function changed() {
    if (submitting) return;
    const now = Date.now();
    if (firstChange === null) firstChange = now;
    clearTimeout(timer);
    timer = setTimeout(autosave, now - firstChange >= MAX_WAIT ? 0 : DEBOUNCE);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", () => {
    submitting = true;
    clearTimeout(timer);
  });

  // --- leaving with changes not saved ---
  window.addEventListener("beforeunload", (event) => {
    if (submitting || serialise() === saved) return;
    event.preventDefault();
    event.returnValue = "";  // the browser shows its own question
  });

  // --- the offer: a slot from an earlier visit ---
  const offer = document.getElementById("desk-autosave-offer");
  const slotData = document.getElementById("desk-autosave-slot");
  const slot = slotData ? JSON.parse(slotData.textContent) : null;
  if (!offer || !slot || !slot.fields) return;
  const differs = FIELDS.some((name) => name in slot.fields && field(name) && values()[name] !== slot.fields[name]);
  if (!differs) return;
  offer.querySelector(".desk-offer-time").textContent = clock(slot.saved_at);
  offer.querySelector(".desk-offer-time").setAttribute("datetime", slot.saved_at);
  if (desk.dataset.version && slot.base_version !== null && String(slot.base_version) !== desk.dataset.version) {
    const note = document.createElement("span");
    note.className = "desk-offer-note";
    note.textContent = ` They were made on version ${slot.base_version}; the post has been saved since (version ${desk.dataset.version}).`;
    offer.querySelector(".desk-offer-text").appendChild(note);
  }
  offer.hidden = false;

  offer.querySelector(".desk-restore").addEventListener("click", () => {
    FIELDS.forEach((name) => {
      const element = field(name);
      if (!element || !(name in slot.fields)) return;
      if (element.type === "checkbox") element.checked = slot.fields[name] === "on";
      else element.value = slot.fields[name];
      element.dispatchEvent(new Event("input", {bubbles: true}));
      element.dispatchEvent(new Event("change", {bubbles: true}));
    });
    sent = serialise();  // the slot holds this already
    offer.hidden = true;
    say(`Restored your unsaved changes from ${clock(slot.saved_at)}. Save to keep them.`);
  });
  offer.querySelector(".desk-discard").addEventListener("click", () => {
    post(desk.dataset.discardUrl, new FormData()).then(({ok, json}) => {
      if (!ok) throw new Error(json.error || "The autosaved changes could not be discarded.");
      offer.hidden = true;
      sent = saved;
      say("Discarded the autosaved changes.");
    }).catch((error) => say(error.message));
  });
})();
