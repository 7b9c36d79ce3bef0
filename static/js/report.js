// The report form: choosing another period loads that period's entry (if any) into the form,
// unless something was typed already.
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  var period = document.getElementById("id_period");
  if (!form || !period) { return; }
  period.addEventListener("change", function () {
    if (!form.dataset.dirty) {
      window.location.search = "?period=" + encodeURIComponent(period.value);
    }
  });
  form.querySelectorAll("input, textarea").forEach(function (el) {
    el.addEventListener("input", function () { form.dataset.dirty = "1"; });
  });
})();
