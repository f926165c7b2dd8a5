/* The post form's Checks panel, kept current as the editor types.
 *
 * The server renders the findings with the form (posts.checks); this posts
 * the body and the cover's fields to the checks endpoint a moment after the
 * last change and redraws the list from its JSON answer. Nothing here
 * blocks saving or publishing.
 */
"use strict";
(function () {
  const panel = document.getElementById("post-checks");
  const form = panel && panel.closest("form");
  if (!panel || !form) return;
  const list = panel.querySelector(".post-checks-list");
  const none = panel.querySelector(".post-checks-none");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  let timer = null;
  let sent = 0;

  function field(name) {
    const input = form.elements.namedItem(name);
    return input && "value" in input ? input.value : "";
  }

  function draw(findings) {
    list.replaceChildren(
      ...findings.map((finding) => {
        const item = document.createElement("li");
        item.className = finding.level;
        item.dataset.code = finding.code;
        item.textContent = finding.message;
        return item;
      })
    );
    none.hidden = findings.length > 0;
  }

  async function run() {
    const body = new FormData();
    body.append("body", field("body"));
    body.append("cover_image", field("cover_image"));
    body.append("cover_alt", field("cover_alt"));
    const decorative = form.elements.namedItem("cover_decorative");
    if (decorative && decorative.checked) body.append("cover_decorative", "on");
    const number = ++sent;
    try {
      const response = await fetch(panel.dataset.checksUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
        credentials: "same-origin",
      });
      if (!response.ok || number !== sent) return;
      draw((await response.json()).findings || []);
    } catch (error) {
      /* The panel keeps its last findings; the next change tries again. */
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(run, 600);
  }

  form.addEventListener("input", (event) => {
    if (["body", "cover_alt", "cover_decorative"].includes(event.target.name)) soon();
  });
  // The cover's key is a hidden input set by the photo cards' buttons.
  form.addEventListener("change", soon);
  document.addEventListener("post:cover-changed", soon);
})();
