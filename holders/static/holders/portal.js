/* Progressive enhancement only: every page works without this file.
   - [data-countdown]: the server rendered how many seconds were left at that moment; this
     counts them down with the monotonic performance clock. The computer's own date and
     time are never read, and nothing here is ever sent to the server.
   - [data-print]: show the print button (without JavaScript the page says to use Print).
   - [data-error-summary]: take the keyboard focus to the summary of a refused form. */
(function () {
  "use strict";

  function unit(value, name) {
    return value + " " + name + (value === 1 ? "" : "s");
  }

  function describe(seconds) {
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    var parts = [];
    if (days) parts.push(unit(days, "day"));
    if (days || hours) parts.push(unit(hours, "hour"));
    if (days || hours || minutes) parts.push(unit(minutes, "minute"));
    parts.push(unit(secs, "second"));
    return parts.join(", ");
  }

  function countdown(element) {
    var total = parseInt(element.getAttribute("data-countdown"), 10);
    if (isNaN(total)) return;
    var started = window.performance.now();
    function tick() {
      var left = total - Math.floor((window.performance.now() - started) / 1000);
      if (left <= 0) {
        element.textContent = "none: the time has passed (reload the page for the exchange agent's record)";
        return;
      }
      element.textContent = describe(left);
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  // After a refused submit the keyboard starts at the summary of every error (it is also
  // `autofocus`; this covers browsers that honour that only on form controls).
  var summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) summary.focus();

  document.querySelectorAll("[data-countdown]").forEach(countdown);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
    var hint = button.parentNode.querySelector(".print-hint__text");
    if (hint) hint.hidden = true;
  });
})();
