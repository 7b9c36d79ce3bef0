// What every page shares, without inline script (the Content-Security-Policy forbids it): the
// language switcher sends its form on a change; a button marked data-submit-once is turned off
// once its form is sent (an import is not started twice); data-refresh-seconds on an element
// reloads the page after that many seconds (an import in progress follows itself).
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("button[data-submit-once]").forEach(function (button) {
    button.form.addEventListener("submit", function () { button.disabled = true; });
  });
  var refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    var seconds = Number(refresh.dataset.refreshSeconds);
    if (seconds > 0) {
      setTimeout(function () { window.location.reload(); }, 1000 * seconds);
    }
  }
})();
