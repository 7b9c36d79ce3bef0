// The review queue: a box in a table's header ticks or clears every row of that table that
// may be reviewed (data-check-all: the selector of those rows' boxes).
(function () {
  "use strict";
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll(all.dataset.checkAll).forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
