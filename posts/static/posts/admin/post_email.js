/* The post form's newsletter parts: the email preview and test, and the send panel.
 *
 * "Preview email" and "Send a test to me" post the form's current values
 * (saved or not, with the CSRF token) to the admin, which renders the email
 * as subscribers would get it; the preview is shown in a sandboxed frame.
 * The send panel polls the send's JSON status every few seconds while it is
 * queued or sending, and keeps its counts, progress bar and buttons current.
 */
"use strict";
(function () {
  // --- the email of the form's content ---
  const tools = document.getElementById("post-email");
  const editor = document.getElementById("post-editor");
  if (tools && editor) {
    const form = editor.closest("form");
    const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    const message = document.getElementById("email-message");
    const subject = document.getElementById("email-subject");
    const frame = document.getElementById("email-preview");

    function say(text, isError) {
      message.textContent = text;
      message.hidden = !text;
      message.classList.toggle("errornote", !!isError);
    }

    function post(url) {
      const data = new FormData(form);
      if (editor.dataset.post) data.append("post", editor.dataset.post);
      return fetch(url, {method: "POST", body: data, credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
        .then((r) => r.json().catch(() => ({error: `The admin answered ${r.status}.`})).then((json) => ({ok: r.ok, json})));
    }

    const previewButton = document.getElementById("email-preview-button");
    previewButton.addEventListener("click", () => {
      say("Rendering the email…");
      post(tools.dataset.previewUrl).then(({ok, json}) => {
        if (!ok) { say(json.error || "The email could not be previewed.", true); return; }
        say("");
        subject.textContent = "Subject: " + json.subject;
        subject.hidden = false;
        frame.hidden = false;
        frame.srcdoc = json.html;
      }).catch(() => say("The email could not be previewed. Check your connection and try again.", true));
    });
    frame.addEventListener("load", () => {
      const doc = frame.contentDocument;
      if (!doc || !doc.documentElement) return;
      frame.style.height = Math.ceil(doc.documentElement.getBoundingClientRect().height) + "px";
      doc.addEventListener("click", (event) => {
        const link = event.target.closest && event.target.closest("a[href]");
        if (!link) return;
        event.preventDefault();
        if (!link.getAttribute("href").startsWith("#")) window.open(link.href, "_blank", "noopener");
      });
    });

    const testButton = document.getElementById("email-test-button");
    if (testButton) {
      testButton.addEventListener("click", () => {
        testButton.disabled = true;
        say("Sending the test…");
        post(tools.dataset.testUrl).then(({ok, json}) => {
          say(ok ? json.message : (json.error || "The test could not be sent."), !ok);
        }).catch(() => say("The test could not be sent. Check your connection and try again.", true))
          .finally(() => { testButton.disabled = false; });
      });
    }
  }

  // --- the send panel ---
  const panel = document.getElementById("send-panel");
  if (!panel || !panel.dataset.state) return;
  const RUNNING = ["queued", "sending"];
  const bar = panel.querySelector("progress");

  function show(status) {
    panel.dataset.state = status.state;
    panel.querySelectorAll("[data-field]").forEach((element) => {
      const value = status[element.dataset.field];
      if (value === undefined) return;
      element.textContent = value === null ? "" : String(value);
      if (element.dataset.field === "paused_reason") element.hidden = !value;
    });
    if (bar) { bar.value = status.percent; bar.textContent = status.percent + "%"; }
    panel.querySelectorAll("[data-states]").forEach((element) => {
      element.hidden = !element.dataset.states.split(" ").includes(status.state);
    });
  }

  function poll(delay) {
    if (!RUNNING.includes(panel.dataset.state)) return;
    setTimeout(() => {
      fetch(panel.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then((r) => (r.ok ? r.json() : null))
        .then((status) => { if (status) show(status); poll(3000); })
        .catch(() => poll(10000));
    }, delay);
  }
  poll(2000);
})();
