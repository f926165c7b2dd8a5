/* The editor's desk: writing beside the preview, and the editor's time zone.
 *
 * - On a wide screen (>= 1200 px, desk.css) the Markdown body and the preview
 *   sit side by side, each in a pane of the window's height, and scroll
 *   together by proportion. Below that they stack, the body first.
 * - The preview shows the post page at a phone's, a tablet's or a desktop's
 *   width (390, 768, 1280 px, as Wagtail's responsive preview does), scaled
 *   down to fit its pane; the choice is remembered in this browser.
 * - Ctrl/Cmd+S saves (the form's default "Save" button); the submit row
 *   stays at the bottom of the window (desk.css).
 * - The browser's time zone goes with the form (`editor_tz`) and in a cookie
 *   for the admin's other pages (posts/editor_zone.py); "Go live at" is shown
 *   in it, with the UTC time beside it.
 */
"use strict";
(function () {
  const desk = document.getElementById("post-desk");
  if (!desk) return;
  const form = desk.closest("form");
  const status = document.getElementById("desk-status");

  // --- the editor's time zone ---
  const zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
  document.cookie = "myblog_tz=" + encodeURIComponent(zone) + "; path=/admin/; max-age=31536000; SameSite=Lax";
  const zoneField = document.getElementById("id_editor_tz");
  if (zoneField) zoneField.value = zone;

  function pad(n) { return String(n).padStart(2, "0"); }
  function localValue(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }
  function utcText(date) {
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
  }

  const publishAt = form.querySelector("[name=publish_at]");
  if (publishAt) {
    const rendered = desk.dataset.zone;
    // The server showed the date in the zone it knew (UTC on a first visit):
    // show the saved moment in this browser's zone instead.
    if (rendered !== zone && !desk.dataset.bound && desk.dataset.publishAtUtc) {
      publishAt.value = localValue(new Date(desk.dataset.publishAtUtc));
    }
    const help = document.getElementById("id_publish_at_helptext");
    if (help && rendered !== zone) {
      help.querySelectorAll("div, span").forEach((node) => {
        if (node.childElementCount === 0) node.textContent = node.textContent.replace("Time zone: " + rendered, "Time zone: " + zone);
      });
    }
    const utc = document.createElement("span");
    utc.className = "desk-utc";
    utc.id = "desk-publish-at-utc";
    utc.setAttribute("aria-live", "polite");
    publishAt.insertAdjacentElement("afterend", utc);
    const showUtc = () => {
      const date = publishAt.value ? new Date(publishAt.value) : null;  // no offset: the browser's own zone
      utc.textContent = date && !isNaN(date) ? `${zone} · ${utcText(date)}` : `${zone}`;
    };
    publishAt.addEventListener("input", showUtc);
    publishAt.addEventListener("change", showUtc);
    showUtc();
  }

  // --- Ctrl/Cmd+S saves the draft ---
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.key.toLowerCase() !== "s") return;
    event.preventDefault();
    const save = form.querySelector("input[type=submit][name=_save]");
    if (!save || save.disabled) return;
    if (status) status.textContent = "Saving…";
    form.requestSubmit(save);
  });

  // --- writing beside the preview ---
  const body = form.querySelector("textarea[name=body]");
  const frame = document.getElementById("post-preview");
  if (!body || !frame) return;
  const bodyRow = body.closest(".form-row");
  const previewModule = frame.closest("fieldset") || frame.parentElement;
  const split = document.createElement("div");
  split.className = "desk-split";
  split.id = "desk-split";
  const write = document.createElement("div");
  write.className = "desk-write";
  const view = document.createElement("div");
  view.className = "desk-view";
  bodyRow.parentElement.insertBefore(split, bodyRow);
  write.appendChild(bodyRow);
  split.append(write, view);
  view.appendChild(previewModule);

  const tools = document.getElementById("desk-preview-tools");
  const stage = document.createElement("div");
  stage.className = "desk-stage";
  stage.id = "desk-stage";
  const scaler = document.createElement("div");
  scaler.className = "desk-scaler";
  frame.parentElement.insertBefore(stage, frame);
  scaler.appendChild(frame);  // the frame reloads its srcdoc here; post_preview.js attaches on load
  stage.appendChild(scaler);
  if (tools) {
    stage.insertAdjacentElement("beforebegin", tools);
    tools.hidden = false;
  }

  const STORE = "myblog.desk.previewWidth";
  let width = 1280;
  try { width = parseInt(localStorage.getItem(STORE), 10) || 1280; } catch (e) { /* storage refused */ }

  function layout() {
    const available = stage.clientWidth;
    if (!available) return;
    const scale = Math.min(1, available / width);
    frame.style.width = width + "px";
    frame.style.transform = scale < 1 ? `scale(${scale})` : "";
    const height = frame.offsetHeight;
    scaler.style.width = Math.floor(width * scale) + "px";
    scaler.style.height = Math.ceil(height * scale) + "px";
    frame.dataset.scale = scale.toFixed(3);
    const label = tools && tools.querySelector(".desk-scale");
    if (label) label.textContent = scale < 1 ? `${width} px at ${Math.round(scale * 100)}%` : `${width} px`;
  }

  function choose(next) {
    width = next;
    try { localStorage.setItem(STORE, String(width)); } catch (e) { /* storage refused */ }
    if (tools) {
      tools.querySelectorAll("button[data-width]").forEach((button) => {
        button.setAttribute("aria-pressed", String(parseInt(button.dataset.width, 10) === width));
      });
    }
    layout();
  }
  if (tools) {
    tools.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-width]");
      if (button) choose(parseInt(button.dataset.width, 10));
    });
  }
  if (window.ResizeObserver) {
    // The frame's height follows its page (post_preview.js); the stage follows the window.
    new ResizeObserver(layout).observe(frame);
    new ResizeObserver(layout).observe(stage);
  }
  window.addEventListener("resize", layout);
  choose(width);

  // --- scrolling together, by proportion (side by side only) ---
  const sideBySide = window.matchMedia("(min-width: 1200px)");
  let leader = null;
  let release = null;
  function follow(from, to) {
    if (!sideBySide.matches || (leader && leader !== from)) return;
    leader = from;
    clearTimeout(release);
    release = setTimeout(() => { leader = null; }, 120);
    const range = from.scrollHeight - from.clientHeight;
    const ratio = range > 0 ? from.scrollTop / range : 0;
    to.scrollTop = ratio * (to.scrollHeight - to.clientHeight);
  }
  body.addEventListener("scroll", () => follow(body, stage));
  stage.addEventListener("scroll", () => follow(stage, body));
})();
