/* Questionnaire branching (the C-SSRS screener): a question asked only after a given answer to
   an earlier one is switched off, cleared and marked skipped until that answer is chosen, so
   a skipped question is never sent. Without this script the page still says when each
   question is asked, and the server explains an answer to a skipped question in words. */
(function () {
  "use strict";

  function apply(form) {
    form.querySelectorAll("fieldset[data-asked-when-item]").forEach(function (fieldset) {
      var gate = form.querySelector(
        'input[name="item_' + fieldset.dataset.askedWhenItem + '"]:checked'
      );
      var asked = gate !== null && gate.value === fieldset.dataset.askedWhenValue;
      if (!asked) {
        fieldset.querySelectorAll("input:checked").forEach(function (input) {
          input.checked = false;
        });
      }
      fieldset.disabled = !asked;
      fieldset.classList.toggle("is-skipped", !asked);
      var status = fieldset.querySelector(".skip-status");
      if (status) {
        var text = asked ? "" : "Skipped for now.";
        if (status.textContent !== text) {
          status.textContent = text;
        }
      }
    });
  }

  function start() {
    document.querySelectorAll("form.instrument-form").forEach(function (form) {
      if (!form.querySelector("fieldset[data-asked-when-item]")) {
        return;
      }
      apply(form);
      form.addEventListener("change", function () {
        apply(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
