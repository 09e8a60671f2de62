// The desk's only script (the Content-Security-Policy allows no inline script): it refines
// what the server already rendered, and the pages work without it.
(function () {
  "use strict";
  document.querySelectorAll(".countdown[data-expires]").forEach(function (el) {
    var end = new Date(el.dataset.expires).getTime();
    function tick() {
      var s = Math.floor(Math.max(0, end - Date.now()) / 1000);
      el.textContent = Math.floor(s / 86400) + " days " + Math.floor((s % 86400) / 3600) + " h " +
        Math.floor((s % 3600) / 60) + " min " + (s % 60) + " s";
    }
    if (end > Date.now()) { tick(); setInterval(tick, 1000); }
  });
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
