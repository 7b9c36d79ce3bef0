// The review queue: the box in the header ticks or clears every entry that may be reviewed.
(function () {
  "use strict";
  var all = document.getElementById("check-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll(".entry-check").forEach(function (box) { box.checked = all.checked; });
  });
})();
