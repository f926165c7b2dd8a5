/* The photo cards' "Insert into text" and "Set as cover" ask for the photo's description first.
 *
 * A small dialog (the admin's own look) takes the text readers of screen
 * readers hear instead of the photo, or an explicit "decorative" choice
 * (empty alt text). Then the card's own button does its usual work
 * (post_form.js) with the description in place: the inserted Markdown
 * carries it as alt text, the cover's description field is filled in.
 */
"use strict";
(function () {
  const list = document.getElementById("photo-list");
  const form = list && list.closest("form");
  if (!list || !form) return;

  function escapeAlt(text) {
    // As photos.rendering.markdown_for_photo writes it.
    return text.split(/\s+/).join(" ").trim().replace(/\\/g, "\\\\").replace(/\[/g, "\\[").replace(/\]/g, "\\]");
  }

  function withAlt(markdown, alt) {
    return markdown.replace(/^!\[(?:\\.|[^\]\\])*\]/, "![" + escapeAlt(alt) + "]");
  }

  const dialog = document.createElement("dialog");
  dialog.className = "module photo-alt-dialog";
  dialog.innerHTML =
    '<form method="dialog">' +
    '<h2 class="fieldset-heading" id="photo-alt-title">Describe the photo</h2>' +
    '<div class="form-row"><label for="photo-alt-text" class="required">Description (alt text)</label>' +
    '<textarea id="photo-alt-text" rows="3" cols="40" maxlength="500"></textarea>' +
    '<div class="help">What the photo shows, for readers who cannot see it, in a sentence.</div></div>' +
    '<div class="form-row"><label class="vCheckboxLabel"><input type="checkbox" id="photo-alt-decorative"> ' +
    "Decorative: it adds nothing to the text (no description)</label></div>" +
    '<p class="errornote" id="photo-alt-error" hidden>Write a description, or mark the photo as decorative.</p>' +
    '<div class="submit-row"><input type="submit" class="default" value="OK" id="photo-alt-ok">' +
    '<button type="button" class="button cancel-link" id="photo-alt-cancel">Cancel</button></div>' +
    "</form>";
  dialog.setAttribute("aria-labelledby", "photo-alt-title");
  document.body.appendChild(dialog);
  const text = dialog.querySelector("#photo-alt-text");
  const decorative = dialog.querySelector("#photo-alt-decorative");
  const error = dialog.querySelector("#photo-alt-error");
  let pending = null;

  decorative.addEventListener("change", () => {
    text.disabled = decorative.checked;
    error.hidden = true;
  });
  dialog.querySelector("#photo-alt-cancel").addEventListener("click", () => {
    pending = null;
    dialog.close();
  });
  dialog.querySelector("form").addEventListener("submit", (event) => {
    const alt = decorative.checked ? "" : text.value.trim();
    if (!decorative.checked && !alt) {
      event.preventDefault();
      error.hidden = false;
      text.focus();
      return;
    }
    const { card, button } = pending || {};
    pending = null;
    if (!card) return;
    if (button.classList.contains("photo-insert")) {
      card.dataset.markdown = withAlt(card.dataset.markdown || "", alt);
    } else {
      const coverAlt = form.elements.namedItem("cover_alt");
      if (coverAlt) {
        coverAlt.value = alt;
        coverAlt.dispatchEvent(new Event("input", { bubbles: true }));
      }
      const coverDecorative = form.elements.namedItem("cover_decorative");
      if (coverDecorative) {
        coverDecorative.checked = decorative.checked;
        coverDecorative.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    // Now the button's own handler runs, with the description in place.
    button.dataset.described = "1";
    setTimeout(() => button.click(), 0);
  });

  list.addEventListener(
    "click",
    (event) => {
      const button = event.target.closest(".photo-insert, .photo-cover");
      if (!button) return;
      if (button.dataset.described) {
        delete button.dataset.described;
        return;
      }
      event.stopImmediatePropagation();
      const card = button.closest(".photo-card");
      pending = { card, button };
      const current = /^!\[((?:\\.|[^\]\\])*)\]/.exec(card.dataset.markdown || "");
      text.value = current ? current[1].replace(/\\(.)/g, "$1") : "";
      decorative.checked = false;
      text.disabled = false;
      error.hidden = true;
      dialog.querySelector("#photo-alt-title").textContent = button.classList.contains("photo-cover")
        ? "Describe the cover photo"
        : "Describe the photo";
      dialog.showModal();
      text.focus();
    },
    true
  );
})();
