/* The post page preview frames of the admin (post form, revisions).
 *
 * Each `iframe.post-preview-frame` holds the post page as readers see it
 * (its own document and stylesheet, sandboxed: no scripts run inside). This
 * script, running in the admin page, sizes each frame to its page, opens the
 * page's links in a new tab instead of inside the frame, and swaps in a new
 * page when the frame receives a "preview:update" event whose detail is the
 * new document's HTML (keeping the editor's place).
 */
"use strict";
(function () {
  function fit(frame) {
    const doc = frame.contentDocument;
    // The page's own height (scrollHeight would never let the frame shrink).
    if (doc && doc.documentElement) frame.style.height = Math.ceil(doc.documentElement.getBoundingClientRect().height) + "px";
  }

  const attached = new WeakSet();

  function attach(frame) {
    const doc = frame.contentDocument;
    // Before its srcdoc loads, a frame holds an empty about:blank document.
    if (!doc || !doc.body || doc.URL === "about:blank" || attached.has(doc)) return;
    attached.add(doc);
    doc.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link) return;
      event.preventDefault();
      const href = link.getAttribute("href");
      if (href.startsWith("#")) {
        const target = doc.getElementById(decodeURIComponent(href.slice(1)));
        if (target) target.scrollIntoView();
        return;
      }
      window.open(link.href, "_blank", "noopener");
    });
    if (window.ResizeObserver) new ResizeObserver(() => fit(frame)).observe(doc.documentElement);
    doc.querySelectorAll("img").forEach((img) => img.addEventListener("load", () => fit(frame)));
    fit(frame);
  }

  function update(frame, html) {
    const doc = frame.contentDocument;
    if (!doc || !doc.body) return;
    const fresh = new DOMParser().parseFromString(html, "text/html");
    const oldMain = doc.querySelector("main");
    const newMain = fresh.querySelector("main");
    if (oldMain && newMain) {
      oldMain.replaceWith(doc.adoptNode(newMain));
    } else {
      doc.body.replaceWith(doc.adoptNode(fresh.body));
    }
    doc.title = fresh.title;
    doc.querySelectorAll("img").forEach((img) => img.addEventListener("load", () => fit(frame)));
    fit(frame);
  }

  document.querySelectorAll("iframe.post-preview-frame").forEach((frame) => {
    frame.addEventListener("load", () => attach(frame));
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") attach(frame);
    frame.addEventListener("preview:update", (event) => update(frame, event.detail));
  });
})();
