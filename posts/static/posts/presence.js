/* Who else has this post open: "<name> is also editing this post (since <time>)".
 *
 * The open form sends a heartbeat every ~20 s (posts/presence.py keeps it
 * with a DynamoDB TTL), and the answer lists the other editors whose
 * heartbeat has not expired. Leaving the page deletes this editor's own
 * heartbeat with a beacon; if that is lost, it expires on its own. A
 * "desk:heartbeat" event on the notice sends one at once.
 */
"use strict";
(function () {
  const desk = document.getElementById("post-desk");
  const box = document.getElementById("desk-presence");
  if (!desk || !box || !desk.dataset.post || !desk.dataset.presenceUrl) return;
  const form = desk.closest("form");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let every = 20;
  let timer = null;

  function since(iso) {
    const date = new Date(iso);
    const today = date.toDateString() === new Date().toDateString();
    return today ? date.toLocaleTimeString(undefined, {timeStyle: "short"})
      : date.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
  }

  function show(others) {
    box.replaceChildren(...others.map((other) => {
      const line = document.createElement("p");
      line.dataset.user = other.user;
      line.textContent = `${other.name} is also editing this post (since ${since(other.since)}).`;
      return line;
    }));
    box.hidden = others.length === 0;
  }

  function beat() {
    clearTimeout(timer);
    const data = new FormData();
    data.append("post", desk.dataset.post);
    fetch(desk.dataset.presenceUrl, {method: "POST", body: data, credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
      .then((response) => (response.ok ? response.json() : null))
      .then((json) => {
        if (!json) return;
        every = json.heartbeat || every;
        show(json.others || []);
      })
      .catch(() => {})
      .finally(() => { timer = setTimeout(beat, every * 1000); });
  }

  function leave() {
    clearTimeout(timer);
    const data = new FormData();
    data.append("post", desk.dataset.post);
    data.append("csrfmiddlewaretoken", csrf);
    navigator.sendBeacon(desk.dataset.leaveUrl, data);
  }

  window.addEventListener("pagehide", leave);
  window.addEventListener("pageshow", (event) => { if (event.persisted) beat(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") beat(); });
  box.addEventListener("desk:heartbeat", beat);
  beat();
})();
