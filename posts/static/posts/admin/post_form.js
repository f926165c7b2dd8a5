/* The post form: slug from title, live preview, the cover, photo uploads to S3.
 *
 * Photos go from the browser straight to S3 with a presigned POST granted by
 * the admin (they never pass through Lambda). Thumbnails are polled from a
 * small JSON endpoint until the rendition handler has made them; until then
 * a card shows the original through a short-lived presigned S3 URL (each
 * answer signs it anew: the image is only reloaded when it is another file).
 */
"use strict";
(function () {
  const editor = document.getElementById("post-editor");
  if (!editor) return;
  const form = editor.closest("form");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const body = form.querySelector("[name=body]");
  const title = form.querySelector("[name=title]");
  const slug = form.querySelector("[name=slug]");
  const cover = form.querySelector("[name=cover_image]");
  const coverBox = document.getElementById("cover-photo");
  const preview = document.getElementById("post-preview");
  const list = document.getElementById("photo-list");
  const uploaded = document.getElementById("uploaded-photos");
  const errorBox = document.getElementById("photo-error");
  const maxBytes = parseInt(editor.dataset.maxBytes, 10);
  const contentTypes = editor.dataset.contentTypes.split(",");

  // --- slug from title, until the editor types a slug themselves ---
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 100).replace(/-+$/, "");
  }
  if (editor.dataset.adding && title && slug && !slug.disabled) {
    let touched = slug.value !== "";
    slug.addEventListener("input", () => { touched = slug.value !== ""; });
    title.addEventListener("input", () => { if (!touched) slug.value = slugify(title.value); });
  }

  // --- live preview: the server renders the post page for the form's values
  // (debounced); post_preview.js swaps it into the preview frame ---
  let previewTimer = null;
  let previewSeq = 0;
  function refreshPreview() {
    const seq = ++previewSeq;
    const data = new FormData(form);
    if (editor.dataset.post) data.append("post", editor.dataset.post);
    fetch(editor.dataset.previewUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: {"X-CSRFToken": csrf},
    }).then((r) => r.json()).then((json) => {
      if (seq === previewSeq && json.document !== undefined) {
        preview.dispatchEvent(new CustomEvent("preview:update", {detail: json.document}));
      }
    }).catch(() => {});
  }
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 400);
  }
  ["title", "body", "excerpt", "tags", "cover_alt", "author", "publish_at"].forEach((name) => {
    const field = form.querySelector(`[name=${name}]`);
    if (field) field.addEventListener("input", schedulePreview);
  });

  // --- the cover: the photo panel's card of the chosen photo, shown in the cover fieldset ---
  function cardFor(key) {
    return key ? Array.from(list.querySelectorAll(".photo-card")).find((card) => card.dataset.key === key) : null;
  }

  // The same file: presigned URLs of one original differ in their signature only.
  function sameFile(a, b) {
    if (!a || !b) return a === b;
    const first = new URL(a, document.baseURI);
    const second = new URL(b, document.baseURI);
    return first.origin === second.origin && first.pathname === second.pathname;
  }

  function showCover() {
    if (!coverBox || !cover) return;
    const figure = coverBox.querySelector(".cover-photo-current");
    const image = coverBox.querySelector(".cover-photo-image");
    const remove = coverBox.querySelector(".cover-photo-remove");
    const key = cover.value;
    figure.hidden = !key;
    coverBox.querySelector(".cover-photo-none").hidden = !!key;
    if (remove) remove.hidden = !key;
    const card = cardFor(key);
    if (!card) return;  // a cover the panel does not list keeps what the server showed
    const src = card.querySelector("img").getAttribute("src");
    if (src && !sameFile(image.getAttribute("src"), src)) image.src = src;
    image.hidden = !src;
    coverBox.querySelector(".cover-photo-status").textContent = card.querySelector(".photo-status").textContent;
  }

  function markCover() {
    list.querySelectorAll(".photo-card").forEach((card) => {
      const isCover = !!cover && card.dataset.key === cover.value;
      card.classList.toggle("is-cover", isCover);
      const button = card.querySelector(".photo-cover");
      if (button && card.dataset.status) {
        button.disabled = isCover || card.dataset.status === "failed";
        button.textContent = isCover ? "The cover" : "Set as cover";
      }
    });
    showCover();
  }

  function setCover(key) {
    cover.value = key;
    markCover();
    schedulePreview();
  }

  if (coverBox) {
    const remove = coverBox.querySelector(".cover-photo-remove");
    if (remove) remove.addEventListener("click", () => setCover(""));
  }

  // --- photos ---
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function insertAtCursor(text) {
    const start = body.selectionStart ?? body.value.length;
    const end = body.selectionEnd ?? start;
    const before = body.value.slice(0, start);
    const after = body.value.slice(end);
    const lead = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    const insert = lead + text + "\n\n";
    body.value = before + insert + after;
    body.selectionStart = body.selectionEnd = before.length + insert.length;
    body.dispatchEvent(new Event("input"));
    body.focus();
  }

  function render(card, info) {
    card.dataset.key = info.key;
    card.dataset.status = info.status;
    card.dataset.markdown = info.markdown;
    const img = card.querySelector("img");
    const src = info.thumbnail_url || info.original_url;
    if (src && !sameFile(img.getAttribute("src"), src)) img.src = src;
    card.querySelector(".photo-status").textContent = info.status_label;
    const name = card.querySelector(".photo-name");
    if (name && info.filename) { name.textContent = info.filename; name.title = info.filename; }
    const size = card.querySelector(".photo-size");
    if (size && info.size_label) size.textContent = info.size_label;
    markCover();
  }

  function newCard() {
    const card = document.createElement("li");
    card.className = "photo-card";
    card.innerHTML = '<img alt=""><span class="photo-name"></span><span class="photo-size"></span>' +
      '<span class="photo-status" role="status">uploading…</span>' +
      '<progress max="100" value="0"></progress>' +
      '<button type="button" class="button photo-cover" disabled>Set as cover</button>' +
      '<button type="button" class="button photo-insert" disabled>Insert into text</button>';
    list.appendChild(card);
    return card;
  }

  function poll(card, tries) {
    if (tries <= 0 || card.dataset.status !== "pending") return;
    setTimeout(() => {
      fetch(editor.dataset.statusUrl + "?key=" + encodeURIComponent(card.dataset.key), {credentials: "same-origin"})
        .then((r) => (r.ok ? r.json() : null))
        .then((info) => { if (info) render(card, info); poll(card, tries - 1); })
        .catch(() => poll(card, tries - 1));
    }, 2000);
  }

  function remember(key) {
    // Saving the form attaches the photo to the post (it may not exist yet).
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "uploaded_photos";
    input.value = key;
    uploaded.appendChild(input);
  }

  function upload(file) {
    if (!contentTypes.includes(file.type)) {
      showError(`“${file.name}” is not a photo this site accepts (JPEG, PNG, WebP or GIF).`);
      return;
    }
    if (file.size > maxBytes) {
      showError(`“${file.name}” is ${(file.size / 1048576).toFixed(1)} MB; the largest upload is ${Math.round(maxBytes / 1048576)} MB.`);
      return;
    }
    const card = newCard();
    const progress = card.querySelector("progress");
    card.querySelector("img").src = URL.createObjectURL(file);
    fetch(editor.dataset.uploadUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
      body: JSON.stringify({content_type: file.type, size: file.size, name: file.name, post: editor.dataset.post || null}),
    }).then((r) => r.json().then((json) => ({ok: r.ok, json}))).then(({ok, json}) => {
      // Refusals have the API's error shape: {"error": {"code", "message"}}.
      if (!ok) throw new Error((json.error && json.error.message) || "The upload was refused.");
      const data = new FormData();
      Object.entries(json.fields).forEach(([name, value]) => data.append(name, value));
      data.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", json.url);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          progress.value = 100;
          progress.remove();
          card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
          remember(json.key);
          render(card, json.photo);
          poll(card, 90);
        } else {
          card.remove();
          showError(`“${file.name}” could not be stored (${xhr.status}). Try again.`);
        }
      });
      xhr.addEventListener("error", () => {
        card.remove();
        showError(`“${file.name}” could not be sent. Check your connection and try again.`);
      });
      xhr.send(data);
    }).catch((error) => {
      card.remove();
      showError(error.message);
    });
  }

  function uploadAll(files) {
    showError("");
    Array.from(files).forEach(upload);
  }

  const drop = document.getElementById("photo-drop");
  const input = document.getElementById("photo-input");
  if (drop && input) {
    ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("is-over");
    }));
    ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("is-over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      uploadAll(event.dataTransfer.files);
    });
    input.addEventListener("change", () => {
      uploadAll(input.files);
      input.value = "";
    });
  }

  list.addEventListener("click", (event) => {
    const card = event.target.closest(".photo-card");
    if (!card) return;
    if (event.target.classList.contains("photo-cover") && cover) {
      setCover(card.dataset.key);
    } else if (event.target.classList.contains("photo-insert")) {
      insertAtCursor(card.dataset.markdown);
    }
  });

  list.querySelectorAll(".photo-card").forEach((card) => poll(card, 90));
  markCover();
})();
