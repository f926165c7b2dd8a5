/* The cover's focal point: a click on the cover in the post form's cover fieldset
   stores where its subject is ("x,y" fractions of the photo, e.g. "0.30,0.60") in
   the cover_focus field, and a marker shows it. Listings crop the cover around it.
   The server checks the value (posts/focus.py); without this script the field is
   typed by hand. */
(function () {
  "use strict";

  function parse(value) {
    const match = /^\s*([01](?:\.\d+)?)\s*,\s*([01](?:\.\d+)?)\s*$/.exec(value || "");
    if (!match) return null;
    const x = parseFloat(match[1]);
    const y = parseFloat(match[2]);
    return x <= 1 && y <= 1 ? [x, y] : null;
  }

  function init() {
    const box = document.getElementById("cover-photo");
    const input = document.querySelector("[name=cover_focus]");
    if (!box || !input) return;
    const image = box.querySelector(".cover-photo-image");
    const figure = box.querySelector(".cover-photo-current");
    if (!image || !figure) return;
    figure.classList.add("cover-focus-figure");
    figure.style.position = "relative";
    // The whole photo, uncropped, so that a click's place is the photo's.
    Object.assign(image.style, { aspectRatio: "auto", height: "auto", objectFit: "fill", cursor: "crosshair" });
    const marker = document.createElement("span");
    marker.className = "cover-focus-marker";
    marker.setAttribute("aria-hidden", "true");
    Object.assign(marker.style, {
      position: "absolute",
      width: "14px",
      height: "14px",
      margin: "-7px 0 0 -7px",
      borderRadius: "50%",
      border: "2px solid #fff",
      boxShadow: "0 0 0 2px #000",
      pointerEvents: "none",
    });
    figure.appendChild(marker);
    image.title = "Click where the subject is: listings crop the cover around it.";

    function show() {
      const point = parse(input.value);
      const hidden = !point || image.hidden;
      if (marker.hidden !== hidden) marker.hidden = hidden;
      if (!point) return;
      marker.style.left = image.offsetLeft + point[0] * image.clientWidth + "px";
      marker.style.top = image.offsetTop + point[1] * image.clientHeight + "px";
    }

    image.addEventListener("click", (event) => {
      if (input.disabled || input.readOnly) return;
      const rect = image.getBoundingClientRect();
      if (!rect.width || !rect.height) return;
      const clamp = (value) => Math.min(1, Math.max(0, value));
      const x = clamp((event.clientX - rect.left) / rect.width);
      const y = clamp((event.clientY - rect.top) / rect.height);
      input.value = x.toFixed(2) + "," + y.toFixed(2);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      show();
    });
    // A new cover (or none) has no focal point of its own yet. The form's script
    // changes the cover's key and then the image's src (or hides it): watch only
    // those two attributes of the image, never the marker this script moves.
    const cover = document.querySelector("[name=cover_image]");
    let current = cover ? cover.value : "";
    function coverChanged() {
      if (cover && cover.value !== current) {
        current = cover.value;
        input.value = "";
      }
      show();
    }
    input.addEventListener("input", show);
    image.addEventListener("load", coverChanged);
    new MutationObserver(coverChanged).observe(image, { attributes: true, attributeFilter: ["src", "hidden"] });
    window.addEventListener("resize", show);
    show();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
