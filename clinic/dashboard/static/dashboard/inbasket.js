/* The in-basket refreshes itself (every two minutes, and when something in it changes), but
 * never under a prescriber's hands: while an item is open or a field in it has focus, the
 * refresh waits for the next turn. (This used to be an hx-trigger filter, which htmx runs
 * through eval; the Content-Security-Policy forbids eval, so the check lives here.) */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var basket = event.detail && event.detail.elt;
    if (!basket || basket.id !== "basket") { return; }
    if (basket.querySelector("details[open], :focus")) { event.preventDefault(); }
  });
})();
