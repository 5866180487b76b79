/* A link or token shown once (class "copy-field"): one click selects all of it, ready to copy.
 * Loaded by the base template, so no page needs an inline handler (the Content-Security-Policy
 * allows no inline script). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var field = event.target.closest && event.target.closest("input.copy-field, textarea.copy-field");
    if (field) { field.select(); }
  });
})();
