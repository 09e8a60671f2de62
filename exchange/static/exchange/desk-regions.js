// A table wider than a phone scrolls inside its own box (data tables keep their columns);
// such a box must be reachable by keyboard, so each one that does scroll joins the tab
// order, named after its table's caption or its heading. Loaded on every desk page.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".desk-scroll, .inline-group, #changelist-form .results, .card").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
        var title = el.querySelector("caption, h2");
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", (title ? title.textContent.trim() : "Table") + " (scrolls sideways)");
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("resize", mark);
})();
